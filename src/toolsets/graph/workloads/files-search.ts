import { z } from 'zod';
import { requireDelegated } from '../../../graph/graph-errors.ts';
import { csvLine, defineGraphTool, jsonResult, withGraph, type GraphCall, type GraphPermissions } from '../common.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['Files.Read.All', 'Sites.Read.All'], application: [] };
const CALL: GraphCall = { target: '/search/query', permissions: PERMISSIONS, method: 'POST' };
const MAX_RESULTS = 50;

interface DriveItemHit {
  hitId?: string;
  summary?: string;
  resource?: {
    id?: string;
    name?: string;
    size?: number;
    lastModifiedDateTime?: string;
    webUrl?: string;
    parentReference?: { driveId?: string } | null;
    file?: { mimeType?: string | null } | null;
    folder?: unknown;
  };
}
interface SearchAnswer {
  value?: Array<{ hitsContainers?: Array<{ hits?: DriveItemHit[]; total?: number; moreResultsAvailable?: boolean }> }>;
}

const file = z.object({
  driveId: z.string(),
  itemId: z.string(),
  name: z.string(),
  size: z.number().optional(),
  lastModifiedDateTime: z.string().optional(),
  mimeType: z.string().optional(),
  webUrl: z.string().optional(),
});
const output = z.object({ files: z.array(file), count: z.number(), total: z.number().optional(), moreResultsAvailable: z.boolean() });

export const graphFilesSearch = defineGraphTool({
  name: 'graph_files_search',
  title: 'Search files',
  description:
    'Search the files the signed-in user can open in OneDrive and SharePoint (their own, shared with them, and their teams\' libraries) by name and content, through Microsoft Search: ' +
    'driveId, itemId, name, size, last modified, type, link. KQL works in the text: filename:budget, filetype:csv, author:"Megan Bowen", several words. ' +
    'Read a text file with graph_file_read {driveId, itemId}. Needs the server to act for the signed-in user (on-behalf-of): app-only, Microsoft Search would search every drive of the organization, not what you can see, so it is refused.',
  summary: 'Files the caller can see, by name or content (Microsoft Search)',
  toolset: 'graph',
  permissions: PERMISSIONS,
  // Search terms name people and topics: only their length and a keyed fingerprint reach the audit log.
  sensitiveArguments: ['query'],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      query: z.string().trim().min(1).max(300).describe('Words to find in file names and content, optionally KQL (filename:, filetype:, author:).'),
      limit: z.number().int().min(1).max(MAX_RESULTS).optional().describe(`Most files to return (default 25, at most ${MAX_RESULTS}).`),
    })
    .strict(),
  output,
  handler: (args, ctx) =>
    withGraph(ctx, CALL, async (session) => {
      // Microsoft Search trims results to what the signed-in user may open; app-only it would not (and needs a region), so refuse before sending.
      requireDelegated(session.identity, 'File search (Microsoft Search over the files you can open)');
      const size = Math.min(args.limit ?? 25, MAX_RESULTS);
      // The query text travels in a JSON body, never in a URL: no escaping is needed for it to stay one value.
      const body = { requests: [{ entityTypes: ['driveItem'], query: { queryString: args.query }, from: 0, size, fields: ['id', 'name', 'size', 'lastModifiedDateTime', 'webUrl', 'parentReference', 'file'] }] };
      const answer = (await session.client.api('/search/query').option('signal', ctx.signal).post(body)) as SearchAnswer;
      const container = answer.value?.[0]?.hitsContainers?.[0];
      const files = (container?.hits ?? [])
        .map((hit) => hit.resource)
        .filter((item): item is NonNullable<DriveItemHit['resource']> => Boolean(item?.id && item.parentReference?.driveId && !item.folder))
        .slice(0, size)
        .map((item) => ({
          driveId: item.parentReference!.driveId!,
          itemId: item.id!,
          name: item.name ?? '',
          ...(typeof item.size === 'number' && { size: item.size }),
          ...(item.lastModifiedDateTime && { lastModifiedDateTime: item.lastModifiedDateTime }),
          ...(item.file?.mimeType && { mimeType: item.file.mimeType }),
          ...(item.webUrl && { webUrl: item.webUrl }),
        }));
      const moreResultsAvailable = container?.moreResultsAvailable === true;
      const csv = ['driveId,itemId,name,size,lastModifiedDateTime,mimeType,webUrl', ...files.map((f) => csvLine([f.driveId, f.itemId, f.name, f.size, f.lastModifiedDateTime, f.mimeType, f.webUrl]))].join('\n');
      const text = [
        files.length ? csv : `No files match ${JSON.stringify(args.query)}.`,
        moreResultsAvailable ? `More files match (${container?.total ?? 'more'} in all): showing ${files.length}; add words or filename:/filetype: to narrow.` : '',
      ]
        .filter(Boolean)
        .join('\n');
      return jsonResult(
        { files, count: files.length, ...(typeof container?.total === 'number' && { total: container.total }), moreResultsAvailable },
        text,
        { resultRows: files.length, truncated: moreResultsAvailable },
      );
    }),
});
