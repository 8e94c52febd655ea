import { z } from 'zod';
import type { Collected } from '../../../graph/paging.ts';
import type { CursorScope } from '../../../graph/cursor.ts';
import { graphErrorResult, type GraphCall, type GraphToolContext } from '../common.ts';

/**
 * What the paged read tools of this folder share: the `limit` and `cursor`
 * arguments, the `nextCursor`/`partial` output fields and the
 * sentence that says a result is not the whole list.
 */

/** Most items one call may ask for; GRAPH_MAX_ITEMS (at most 200) lowers it further. */
export const MAX_LIMIT = 200;

export const limitArgument = (what: string) =>
  z.number().int().min(1).max(MAX_LIMIT).optional().describe(`Most ${what} to return (default and upper bound: the server's GRAPH_MAX_ITEMS, 50 unless configured).`);

export const cursorArgument = z
  .string()
  .min(10)
  .max(8192)
  .optional()
  .describe('The nextCursor of an earlier call of this tool with the same arguments, to continue where it stopped. Omit for the first page.');

export const pagingOutput = {
  /** Present when more exists. */
  nextCursor: z.string().optional(),
  /** Something was left out: more items exist, or a page could not be read. */
  partial: z.boolean(),
};

/** What the cursor of one of the caller's collections is bound to. */
export function cursorScope(ctx: GraphToolContext, tool: string, resource: string): CursorScope {
  return { caller: ctx.caller, tool, resource };
}

/**
 * One sentence for the text when the list is not complete: more exists
 * (call again with the cursor), or a later page failed (what Graph said).
 */
export function pagingNote(collected: Pick<Collected<unknown>, 'nextCursor' | 'failure' | 'stoppedBy'>, ctx: GraphToolContext, call: GraphCall): string | undefined {
  if (collected.failure !== undefined) {
    const failure = graphErrorResult(collected.failure, ctx, call);
    const said = failure.content?.[0]?.type === 'text' ? failure.content[0].text.split('\n')[0] : 'a page could not be read';
    return `Partial: a later page could not be read (${said})${collected.nextCursor ? '; call again with cursor=nextCursor to retry it' : ''}.`;
  }
  if (collected.nextCursor) return 'More exist: call again with cursor=nextCursor (same arguments) for the next items, or narrow the request.';
  return undefined;
}

/** `cursor` holds a signed Graph link with the caller's ids: keep it out of the audit log. */
export const CURSOR_SENSITIVE = ['cursor'] as const;
