/**
 * JSON batching: `POST /v1.0/$batch`.
 *
 * Models https://learn.microsoft.com/graph/json-batching (graph-protocol.md §6) and Dev Proxy's
 * per-item batch errors: at most 20 requests (more: 400 for the whole batch); each has a unique
 * `id`, a `method` and a `url` relative to the version root; a `body` needs a `Content-Type` in
 * the item's `headers` (headers such as `ConsistencyLevel` go there too, not on the envelope);
 * `dependsOn` names earlier ids and an item whose dependency failed answers 424. A batch that
 * parses answers 200 with `{"responses":[{"id","status","headers","body"}]}` **in any order** (the
 * emulator returns them in reverse request order so clients must match by `id`). Every item is
 * authorized and throttled on its own: a 429 item carries its own `Retry-After` inside a 200
 * envelope, and re-sending that item before it elapses is throttled again. Wording of the
 * envelope refusals is `unconfirmed`.
 */
import { GraphError } from './errors.ts';

export const MAX_BATCH_REQUESTS = 20;

export interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

export interface BatchItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** A failure injected into matching `$batch` items (Dev Proxy's per-item errors). */
export interface BatchItemFailure {
  /** Matches the item's `url` (relative, as sent, case-insensitive) by prefix. */
  urlPrefix?: string;
  /** Matches the item's `id`. */
  id?: string;
  method?: string;
  /** 429 (default), 503, 500, … */
  status?: number;
  /** `Retry-After` seconds for 429/503 (default 1). */
  retryAfterSeconds?: number;
  /** How many matching items fail; default 1. */
  times?: number;
}

function envelopeError(message: string): GraphError {
  return new GraphError(400, 'BadRequest', message);
}

/** Validates the envelope and returns the items in request order. */
export function parseBatch(body: unknown): BatchItem[] {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests)) throw envelopeError("Invalid batch payload: the body must be a JSON object with a 'requests' array.");
  if (requests.length === 0) throw envelopeError('Invalid batch payload: the batch contains no requests.');
  if (requests.length > MAX_BATCH_REQUESTS) throw envelopeError(`Invalid batch payload: a batch can contain at most ${MAX_BATCH_REQUESTS} requests; it contains ${requests.length}.`);
  const seen = new Set<string>();
  return requests.map((raw: Record<string, unknown>) => {
    const id = typeof raw?.id === 'string' || typeof raw?.id === 'number' ? String(raw.id) : '';
    if (id === '') throw envelopeError("Invalid batch payload: every request needs an 'id'.");
    if (seen.has(id)) throw envelopeError(`Invalid batch payload: the request id '${id}' is used more than once.`);
    if (typeof raw.method !== 'string' || typeof raw.url !== 'string' || raw.url === '') throw envelopeError(`Invalid batch payload: request '${id}' needs 'method' and 'url'.`);
    const headers = Object.fromEntries(Object.entries((raw.headers ?? {}) as Record<string, unknown>).map(([name, value]) => [name.toLowerCase(), String(value)]));
    if (raw.body !== undefined && !headers['content-type']) throw envelopeError(`Invalid batch payload: request '${id}' has a body but no Content-Type header.`);
    const dependsOn = Array.isArray(raw.dependsOn) ? (raw.dependsOn as unknown[]).map(String) : [];
    const unknown = dependsOn.find((dependency) => !seen.has(dependency));
    if (unknown !== undefined) throw envelopeError(`Invalid batch payload: request '${id}' depends on '${unknown}', which is not an earlier request of the batch.`);
    seen.add(id);
    return { id, method: raw.method.toUpperCase(), url: raw.url, headers, body: raw.body, dependsOn };
  });
}

export class BatchFailures {
  private rules: Array<BatchItemFailure & { remaining: number }> = [];

  add(rule: BatchItemFailure): void {
    this.rules.push({ ...rule, remaining: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  take(item: BatchItem): BatchItemFailure | undefined {
    const url = item.url.replace(/^\//, '').toLowerCase();
    const rule = this.rules.find(
      (candidate) =>
        (candidate.id === undefined || candidate.id === item.id) &&
        (candidate.method === undefined || candidate.method.toUpperCase() === item.method) &&
        (candidate.urlPrefix === undefined || url.startsWith(candidate.urlPrefix.replace(/^\//, '').toLowerCase())),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((candidate) => candidate !== rule);
    return rule;
  }
}

/** The 424 Graph gives an item whose dependency failed (body wording `unconfirmed`). */
export function failedDependency(item: BatchItem, failed: string): BatchItemResponse {
  return {
    id: item.id,
    status: 424,
    headers: { 'content-type': 'application/json' },
    body: { error: { code: 'FailedDependency', message: `The request depends on request '${failed}', which failed.` } },
  };
}
