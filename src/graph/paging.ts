import type { Client } from '@microsoft/microsoft-graph-client';
import type { CursorCodec, CursorPosition, CursorScope } from './cursor.ts';
import { endpointUrl, isEndpointUrl, type GraphEndpoint } from './endpoint.ts';
import { GraphHostRefusedError } from './middleware.ts';

/**
 * Reads a Graph collection page by page (`@odata.nextLink`), up to a
 * per-call item cap, and hands back an opaque cursor (cursor.ts) when more
 * exists. Every page, the first included, is fetched by its absolute URL
 * through `client.api(url)`, the way the SDK's own PageIterator follows
 * nextLinks, so the URL of the page being read is always known: when the cap
 * falls inside a page, the cursor points at that page with the number of its
 * items already returned, and the next call continues exactly there
 * (PageIterator can only resume in memory, which a stateless server lacks).
 *
 * Items whose id was already returned in this call are dropped (Graph
 * repeats channel messages across skiptoken pages, MicrosoftDocs/msteams-docs#13435).
 * A page after the first that fails, or a nextLink off the Graph host, ends
 * the call as partial with what was read; the failure is returned, and for a
 * failed page the cursor retries it. A failed first page throws.
 */

export interface CollectOptions<T> {
  client: Pick<Client, 'api'>;
  endpoint: GraphEndpoint;
  cursors: CursorCodec;
  /** What the cursor is bound to; `scope.resource` is the collection's path without query. */
  scope: CursorScope;
  /** The first page, relative to the version root with its query: `${resource.path}${odataQuery({...})}`. Ignored with a cursor. */
  firstPage: string;
  /** A cursor from an earlier call of the same tool, caller and resource. */
  cursor?: string | undefined;
  /** Most items returned. */
  limit: number;
  /** Most pages fetched in this call (bounds the Graph requests of one call). */
  maxPages?: number;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** The id items are de-duplicated by (default: `item.id`). */
  idOf?: (item: T) => string | undefined;
  /**
   * Ends the collection, complete and with no cursor, at the first item this accepts (which is
   * not returned): a newest-first list read back to a date stops at the first older item.
   */
  until?: (item: T) => boolean;
}

export interface Collected<T> {
  items: T[];
  /** Present when more exists: pass it back as `cursor`. */
  nextCursor?: string;
  /** Something was left out: more items exist (nextCursor), or a page could not be read (failure). */
  partial: boolean;
  pagesRead: number;
  duplicatesDropped: number;
  /** Why the call stopped early (`until`: the `until` condition was met; nothing was left out). */
  stoppedBy?: 'limit' | 'page_cap' | 'page_failed' | 'until';
  /** The error of the page that could not be read (describe it with graph-errors.ts). */
  failure?: unknown;
}

export const DEFAULT_MAX_PAGES = 20;

interface Page<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

const defaultId = (item: unknown) => {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
};

export async function collectPages<T>(options: CollectOptions<T>): Promise<Collected<T>> {
  const { endpoint, cursors, scope, limit } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new Error('collectPages: limit must be a whole number from 1');
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const idOf = options.idOf ?? defaultId;
  let position: CursorPosition = options.cursor ? await cursors.decode(scope, options.cursor) : { link: endpointUrl(endpoint, options.firstPage), skip: 0 };

  const items: T[] = [];
  const seen = new Set<string>();
  let duplicatesDropped = 0;
  let pagesRead = 0;
  const result = async (stoppedBy: Collected<T>['stoppedBy'], next?: CursorPosition, failure?: unknown): Promise<Collected<T>> => ({
    items,
    ...(next && { nextCursor: await cursors.encode(scope, next) }),
    partial: next !== undefined || failure !== undefined,
    pagesRead,
    duplicatesDropped,
    ...(stoppedBy && { stoppedBy }),
    ...(failure !== undefined && { failure }),
  });

  for (;;) {
    let page: Page<T>;
    try {
      page = await fetchPage<T>(options, position.link);
    } catch (error) {
      if (pagesRead === 0) throw error;
      return result('page_failed', position, error);
    }
    pagesRead += 1;
    const values = page.value ?? [];
    for (let index = position.skip; index < values.length; index++) {
      const item = values[index] as T;
      // Before the limit: when the next item is past the end, no cursor is owed.
      if (options.until?.(item)) return result('until');
      if (items.length >= limit) return result('limit', { link: position.link, skip: index });
      const id = idOf(item);
      if (id !== undefined && seen.has(id)) {
        duplicatesDropped += 1;
        continue;
      }
      if (id !== undefined) seen.add(id);
      items.push(item);
    }
    const nextLink = page['@odata.nextLink'];
    if (!nextLink) return result(undefined);
    // Never follow, nor sign into a cursor, a link off the Graph host.
    if (!isEndpointUrl(endpoint, nextLink)) return result('page_failed', undefined, new GraphHostRefusedError(safeOrigin(nextLink)));
    const next = { link: nextLink, skip: 0 };
    if (items.length >= limit) return result('limit', next);
    if (pagesRead >= maxPages) return result('page_cap', next);
    position = next;
  }
}

async function fetchPage<T>(options: CollectOptions<T>, url: string): Promise<Page<T>> {
  let request = options.client.api(url);
  if (options.headers) request = request.headers(options.headers);
  if (options.signal) request = request.option('signal', options.signal);
  const page = (await request.get()) as Page<T> | null;
  if (!page || typeof page !== 'object' || (page.value !== undefined && !Array.isArray(page.value))) throw new Error('Graph answered a collection request with something that is not a collection');
  return page;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an unparsable URL';
  }
}
