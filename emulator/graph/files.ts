/**
 * OneDrive / SharePoint file endpoints: a drive item's metadata, its children and its content.
 *
 * Models the v1.0 pages driveitem-get, driveitem-list-children and driveitem-get-content:
 * `GET …/items/{id}/content` answers `302 Found` with `Location` set to a short-lived,
 * pre-authenticated download URL (the item's `@microsoft.graph.downloadUrl`), which needs no
 * bearer token and honours `Range` (206). The download URL lives on `sharepoint.localhost`, as the
 * real one lives on the tenant's `*.sharepoint.com` host; it expires after an hour (401 after,
 * `unconfirmed`: the real status). Files.Read and Files.ReadWrite reach only the signed-in user's
 * own drive; `.All` and Sites permissions also the team libraries the user belongs to; app-only
 * Files.Read.All any drive. Unknown items are 404 `itemNotFound` "The resource could not be found.".
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GraphError, jsonResponse } from './errors.ts';
import { collection, contextUrl, pageSize, paginate, project, selectList, sortedBy } from './odata.ts';
import { held, requirePermission } from './permissions.ts';
import type { Drive, DriveItem, GraphTenant } from './store.ts';
import { findUser } from './directory.ts';
import type { GraphCall } from './context.ts';
import type { Router } from './router.ts';

export const DOWNLOAD_HOST = 'sharepoint.localhost';
const DOWNLOAD_LIFETIME_MS = 60 * 60 * 1000;
const NOT_FOUND = () => new GraphError(404, 'itemNotFound', 'The resource could not be found.');

export class DownloadSigner {
  private readonly secret = randomBytes(32);

  sign(driveId: string, itemId: string, expires: number): string {
    const payload = `${driveId}|${itemId}|${expires}`;
    return `${Buffer.from(payload).toString('base64url')}.${createHmac('sha256', this.secret).update(payload).digest('base64url')}`;
  }

  verify(token: string): { driveId: string; itemId: string; expires: number } | undefined {
    const [encoded = '', mac = ''] = token.split('.');
    const payload = Buffer.from(encoded, 'base64url').toString('utf8');
    const expected = createHmac('sha256', this.secret).update(payload).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const [driveId = '', itemId = '', expires = '0'] = payload.split('|');
    return { driveId, itemId, expires: Number(expires) };
  }
}

/** Whether the caller may open items of this drive (see the module comment). */
function canRead(call: GraphCall, drive: Drive): boolean {
  if (call.caller.kind === 'application') return true;
  const userId = call.caller.userId;
  if (drive.ownerUserId === userId) return true;
  const broad = held(call.caller, ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All']).length > 0;
  if (!broad) return false;
  return drive.ownerTeamId !== undefined && (call.tenant.team(drive.ownerTeamId)?.members.some((member) => member.userId === userId) ?? false);
}

function openDrive(call: GraphCall): Drive {
  requirePermission(call.caller, 'files.read');
  let drive: Drive | undefined;
  if (call.params.drive) drive = call.tenant.drive(call.params.drive);
  else {
    const owner = findUser(call.tenant, call.params.user!);
    drive = call.tenant.drives.find((candidate) => candidate.ownerUserId === owner.id);
  }
  if (!drive) throw NOT_FOUND();
  // unconfirmed: SharePoint may answer 404 rather than 403 for items the user cannot see.
  if (!canRead(call, drive)) throw new GraphError(403, 'accessDenied', 'Access denied');
  return drive;
}

function findItem(drive: Drive, id: string): DriveItem {
  const item = drive.items.find((candidate) => candidate.id === id);
  if (!item) throw NOT_FOUND();
  return item;
}

function identity(tenant: GraphTenant, userId: string): Record<string, unknown> {
  const user = tenant.user(userId);
  return { user: { email: user?.mail ?? null, id: userId, displayName: user?.displayName ?? null } };
}

export function driveItemJson(call: Pick<GraphCall, 'tenant' | 'origin' | 'now'>, drive: Drive, item: DriveItem, signer?: DownloadSigner): Record<string, unknown> {
  const parent = item.parentId ? drive.items.find((candidate) => candidate.id === item.parentId) : undefined;
  const path = `/drives/${drive.id}/root:${parent ? `/${parent.name}` : ''}`;
  const base = drive.driveType === 'business' ? 'https://contoso-my.sharepoint.com/personal/documents' : 'https://contoso.sharepoint.com/sites/team/Shared%20Documents';
  return {
    ...(signer && !item.isFolder ? { '@microsoft.graph.downloadUrl': downloadUrl(call, signer, drive, item) } : {}),
    createdDateTime: item.createdDateTime,
    eTag: `"{${item.id.slice(-12)}},1"`,
    id: item.id,
    lastModifiedDateTime: item.lastModifiedDateTime,
    name: item.name,
    webUrl: `${base}/${encodeURIComponent(item.name)}`,
    cTag: `"c:{${item.id.slice(-12)}},1"`,
    size: item.isFolder ? drive.items.filter((child) => child.parentId === item.id).reduce((sum, child) => sum + (child.content?.length ?? 0), 0) : (item.content?.length ?? 0),
    createdBy: identity(call.tenant, item.createdByUserId),
    lastModifiedBy: identity(call.tenant, item.lastModifiedByUserId),
    parentReference: { driveType: drive.driveType, driveId: drive.id, id: item.parentId ?? `${drive.id}-root`, path },
    fileSystemInfo: { createdDateTime: item.createdDateTime, lastModifiedDateTime: item.lastModifiedDateTime },
    ...(item.isFolder ? { folder: { childCount: drive.items.filter((child) => child.parentId === item.id).length } } : { file: { mimeType: item.mimeType, hashes: { quickXorHash: Buffer.from(item.id).toString('base64').slice(0, 28) } } }),
  };
}

function downloadUrl(call: Pick<GraphCall, 'origin' | 'now'>, signer: DownloadSigner, drive: Drive, item: DriveItem): string {
  const origin = call.origin.replace(/^https:\/\/[^:/]+/, `https://${DOWNLOAD_HOST}`);
  return `${origin}/_layouts/15/download.aspx?UniqueId=${encodeURIComponent(item.id)}&tempauth=${signer.sign(drive.id, item.id, call.now() + DOWNLOAD_LIFETIME_MS)}`;
}

const ITEM_PROPERTIES = ['@microsoft.graph.downloadUrl', 'createdDateTime', 'eTag', 'id', 'lastModifiedDateTime', 'name', 'webUrl', 'cTag', 'size', 'createdBy', 'lastModifiedBy', 'parentReference', 'fileSystemInfo', 'folder', 'file'];

function getItem(signer: DownloadSigner) {
  return (call: GraphCall): Response => {
    const drive = openDrive(call);
    const item = findItem(drive, call.params.item!);
    const json = project(driveItemJson(call, drive, item, signer), selectList(call.query), { type: 'driveItem', known: ITEM_PROPERTIES });
    return jsonResponse(200, { '@odata.context': contextUrl(call, `drives('${drive.id}')/items/$entity`), ...json }, call.ids);
  };
}

function listChildren(signer: DownloadSigner) {
  return (call: GraphCall): Response => {
    const drive = openDrive(call);
    const parentId = call.params.item ? findItem(drive, call.params.item).id : null;
    const children = sortedBy(drive.items.filter((item) => item.parentId === parentId), (item) => item.name.toLowerCase(), false);
    // unconfirmed: the default page size of children (200 here).
    const page = paginate(call, children, pageSize(call, { defaultSize: 200, maxSize: 1000, overMax: 'clamp' }));
    return jsonResponse(200, collection(call, `drives('${drive.id}')/items`, { ...page, value: page.value.map((item) => driveItemJson(call, drive, item, signer)) }), call.ids);
  };
}

function getContent(signer: DownloadSigner) {
  return (call: GraphCall): Response => {
    const drive = openDrive(call);
    const item = findItem(drive, call.params.item!);
    // unconfirmed: what Graph answers for the content of a folder.
    if (item.isFolder) throw new GraphError(400, 'invalidRequest', 'The item is a folder and has no content.');
    return new Response(null, { status: 302, headers: { Location: downloadUrl(call, signer, drive, item), 'request-id': call.ids.requestId, 'client-request-id': call.ids.clientRequestId } });
  };
}

/** Serves a pre-authenticated download URL (no bearer token; the `tempauth` is the credential). */
export function serveDownload(req: Request, tenant: GraphTenant, signer: DownloadSigner, now: number): Response {
  const url = new URL(req.url);
  if (url.pathname.toLowerCase() !== '/_layouts/15/download.aspx' || req.method !== 'GET') return new Response('Not Found', { status: 404 });
  const grant = signer.verify(url.searchParams.get('tempauth') ?? '');
  if (!grant || grant.itemId !== url.searchParams.get('UniqueId')) return Response.json({ error: { code: 'accessDenied', message: 'Access denied' } }, { status: 401 });
  if (grant.expires < now) return Response.json({ error: { code: 'accessDenied', message: 'The download URL has expired.' } }, { status: 401 });
  const item = tenant.drive(grant.driveId)?.items.find((candidate) => candidate.id === grant.itemId);
  if (!item?.content) return new Response('Not Found', { status: 404 });
  const headers = { 'content-type': item.mimeType ?? 'application/octet-stream', 'content-disposition': `attachment; filename="${encodeURIComponent(item.name)}"`, 'accept-ranges': 'bytes' };
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.get('range') ?? '');
  if (range && (range[1] || range[2])) {
    const size = item.content.length;
    const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size || start > end) return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } });
    return new Response(new Uint8Array(item.content.subarray(start, end + 1)), { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` } });
  }
  return new Response(new Uint8Array(item.content), { status: 200, headers });
}

export function addFileRoutes(router: Router, signer: DownloadSigner): void {
  router
    .add('GET', '/drives/{drive}/root/children', listChildren(signer))
    .add('GET', '/drives/{drive}/items/{item}', getItem(signer))
    .add('GET', '/drives/{drive}/items/{item}/children', listChildren(signer))
    .add('GET', '/drives/{drive}/items/{item}/content', getContent(signer))
    .add('GET', '/users/{user}/drive/root/children', listChildren(signer))
    .add('GET', '/users/{user}/drive/items/{item}', getItem(signer))
    .add('GET', '/users/{user}/drive/items/{item}/children', listChildren(signer))
    .add('GET', '/users/{user}/drive/items/{item}/content', getContent(signer));
}
