/**
 * OData query options and collection paging as Graph answers them.
 *
 * Models https://learn.microsoft.com/graph/paging and https://learn.microsoft.com/graph/query-parameters
 * (graph-protocol.md §2, §7): a collection is `{"@odata.context", "@odata.count"?, "@odata.nextLink"?,
 * "value"}`; `@odata.nextLink` is an absolute URL that keeps every original query parameter and adds
 * an opaque `$skiptoken`; `$top` sets the page size within a per-API maximum; `$select` projects
 * properties. Ordering is stable (every list sorts on a key with the id as tie-breaker), so pages
 * never skip or repeat items unless the collection changes between requests, as on Graph, where
 * items created between page requests can shift later pages (graph-protocol.md §2's duplicate
 * messages quirk).
 *
 * The skiptoken is stateless (base64url of the offset, page size and a fingerprint of the request
 * it belongs to), so a token replayed against another resource or query is refused; what Graph
 * answers for a forged skiptoken is `unconfirmed` (400 here).
 */
import { createHash } from 'node:crypto';
import { GraphError } from './errors.ts';
import type { GraphCall } from './context.ts';

export interface PageLimits {
  /** Page size without `$top`. */
  defaultSize: number;
  /** Largest `$top` accepted. */
  maxSize: number;
  /** Above the maximum: 400 (with this message) or silently capped. */
  overMax: { error: (top: number) => GraphError } | 'clamp';
}

function fingerprint(call: Pick<GraphCall, 'requestedPath' | 'query'>): string {
  const entries = [...call.query.entries()].filter(([name]) => name.toLowerCase() !== '$skiptoken').sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(`${call.requestedPath.toLowerCase()}?${JSON.stringify(entries)}`).digest('base64url').slice(0, 12);
}

export function encodeSkipToken(offset: number, call: Pick<GraphCall, 'requestedPath' | 'query'>): string {
  return Buffer.from(JSON.stringify({ o: offset, f: fingerprint(call) })).toString('base64url');
}

/** Offset a `$skiptoken` points at, 0 without one; a token for another request or a forged one is refused. */
export function decodeSkipToken(call: Pick<GraphCall, 'requestedPath' | 'query'>, code = 'BadRequest'): number {
  const token = call.query.get('$skiptoken');
  if (token === null) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; f?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.f === fingerprint(call)) return parsed.o;
  } catch {
    // Falls through to the refusal.
  }
  throw new GraphError(400, code, 'The $skiptoken value is not valid for this request.');
}

export function pageSize(call: Pick<GraphCall, 'query'>, limits: PageLimits, code = 'BadRequest'): number {
  const raw = call.query.get('$top');
  if (raw === null) return limits.defaultSize;
  if (!/^\d+$/.test(raw.trim())) throw new GraphError(400, code, `Invalid value '${raw}' for query option '$top'.`);
  const top = Number(raw);
  if (top < 1 && limits.overMax !== 'clamp') throw limits.overMax.error(top);
  if (top > limits.maxSize) {
    if (limits.overMax === 'clamp') return limits.maxSize;
    throw limits.overMax.error(top);
  }
  return Math.max(top, 1);
}

/** The absolute link of the page at `offset`: the request as sent, with `$skiptoken` replaced. */
export function nextLinkFor(call: Pick<GraphCall, 'root' | 'requestedPath' | 'query'>, offset: number): string {
  const kept = [...call.query.entries()].filter(([name]) => name.toLowerCase() !== '$skiptoken');
  // `$` and `,` stay readable as in Graph's own links; everything else is percent-encoded.
  const encode = (value: string) => encodeURIComponent(value).replace(/%24/g, '$').replace(/%2C/gi, ',');
  const query = [...kept.map(([name, value]) => `${encode(name)}=${encode(value)}`), `$skiptoken=${encodeSkipToken(offset, call)}`].join('&');
  return `${call.root}${call.requestedPath}?${query}`;
}

export interface Page<T> {
  value: T[];
  nextLink?: string;
}

export function paginate<T>(call: Pick<GraphCall, 'root' | 'requestedPath' | 'query'>, items: T[], size: number, code = 'BadRequest'): Page<T> {
  const offset = decodeSkipToken(call, code);
  const value = items.slice(offset, offset + size);
  const next = offset + size;
  return next < items.length ? { value, nextLink: nextLinkFor(call, next) } : { value };
}

/** `$select` as a list of property names (case kept), or undefined. */
export function selectList(query: URLSearchParams): string[] | undefined {
  const raw = query.get('$select');
  if (raw === null || raw.trim() === '') return undefined;
  return raw.split(',').map((name) => name.trim()).filter(Boolean);
}

/**
 * Projects `item` on `select` (plus `always`, e.g. Outlook's `id` and `@odata.etag`), matching
 * names case-insensitively; a name the type does not have answers 400 like Graph's OData layer.
 */
export function project(item: Record<string, unknown>, select: string[] | undefined, options: { type: string; known: string[]; always?: string[]; code?: string }): Record<string, unknown> {
  if (!select) return item;
  const known = new Map(options.known.map((name) => [name.toLowerCase(), name]));
  const out: Record<string, unknown> = {};
  for (const name of [...(options.always ?? []), ...select]) {
    const key = known.get(name.toLowerCase()) ?? (name.startsWith('@') ? name : undefined);
    if (key === undefined) throw new GraphError(400, options.code ?? 'BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.${options.type}'.`);
    if (key in item) out[key] = item[key];
    else out[key] = null;
  }
  return out;
}

export function expandList(query: URLSearchParams): string[] {
  const raw = query.get('$expand');
  if (raw === null) return [];
  // Nested options `name($select=…)` are dropped: the emulator expands whole navigation properties.
  return raw.split(',').map((part) => part.replace(/\(.*\)$/, '').trim()).filter(Boolean);
}

/** Refuses `$expand` of anything but `allowed` as OData does for an unknown navigation property. */
export function checkExpand(query: URLSearchParams, allowed: string[], type: string): string[] {
  const expand = expandList(query);
  for (const name of expand) {
    if (!allowed.some((candidate) => candidate.toLowerCase() === name.toLowerCase())) {
      throw new GraphError(400, 'BadRequest', `Could not find a navigation property named '${name}' on type 'microsoft.graph.${type}'.`);
    }
  }
  return expand.map((name) => allowed.find((candidate) => candidate.toLowerCase() === name.toLowerCase())!);
}

export interface OrderBy {
  property: string;
  descending: boolean;
}

export function orderByList(query: URLSearchParams): OrderBy[] {
  const raw = query.get('$orderby');
  if (raw === null || raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const [property = '', direction = 'asc'] = part.trim().split(/\s+/);
    if (!/^(asc|desc)$/i.test(direction)) throw new GraphError(400, 'BadRequest', `Invalid $orderby direction '${direction}'.`);
    return { property, descending: direction.toLowerCase() === 'desc' };
  });
}

export function wantsCount(query: URLSearchParams): boolean {
  return query.get('$count')?.toLowerCase() === 'true';
}

/** `@odata.context` of a response: `<root>/$metadata#<fragment>`. */
export function contextUrl(call: Pick<GraphCall, 'root'>, fragment: string): string {
  return `${call.root}/$metadata#${fragment}`;
}

export function collection<T>(call: Pick<GraphCall, 'root'>, fragment: string, page: Page<T>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '@odata.context': contextUrl(call, fragment),
    ...extra,
    ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
    value: page.value,
  };
}

/** Sorts a copy by `key` (ISO dates and strings compare as strings) with the id as tie-breaker. */
export function sortedBy<T extends { id: string }>(items: T[], key: (item: T) => string | number | null | undefined, descending: boolean): T[] {
  const sign = descending ? -1 : 1;
  return [...items].sort((a, b) => {
    const ka = key(a) ?? '';
    const kb = key(b) ?? '';
    if (ka < kb) return -sign;
    if (ka > kb) return sign;
    return a.id < b.id ? -sign : a.id > b.id ? sign : 0;
  });
}
