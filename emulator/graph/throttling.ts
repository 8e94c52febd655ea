/**
 * Throttling as Graph and Microsoft's Dev Proxy answer it.
 *
 * Models https://learn.microsoft.com/graph/throttling (graph-protocol.md §4): 429 Too Many
 * Requests with `Retry-After` in seconds and the `activityLimitReached` / `throttledRequest`
 * codes; and Dev Proxy's RetryAfterPlugin
 * (https://learn.microsoft.com/microsoft-cloud/dev/dev-proxy/technical-reference/retryafterplugin):
 * a request sent before the `Retry-After` time elapses fails with another 429 carrying the time
 * still left. Graph's limits are per app and user (delegated) or per app (app-only), so the
 * window covers every request of that client; a 429 on a `$batch` item covers that item's
 * method and URL for that client (each sub-request is throttled individually, §6), so re-sending
 * the same item early is throttled again while other requests go through.
 *
 * Tests inject throttling with `throttleNext(count, retryAfterSeconds, { pathPrefix, method,
 * status })`; 503 (with `Retry-After`) models `serviceNotAvailable` and opens no window.
 */
import { GraphError } from './errors.ts';

export interface ThrottleOptions {
  /** Only requests whose path below the version root starts with this (e.g. `/teams`). */
  pathPrefix?: string;
  method?: string;
  /** 429 (default) or 503. */
  status?: 429 | 503;
}

interface Rule extends ThrottleOptions {
  remaining: number;
  retryAfterSeconds: number;
}

export interface EarlyRetry {
  client: string;
  method: string;
  path: string;
  /** Milliseconds that were still left of the window. */
  earlyByMs: number;
  at: number;
}

export class Throttler {
  private rules: Rule[] = [];
  private readonly windows = new Map<string, number>();
  /** Requests that came back before their `Retry-After` elapsed (Dev Proxy reports these). */
  readonly earlyRetries: EarlyRetry[] = [];

  constructor(private readonly now: () => number) {}

  throttleNext(count: number, retryAfterSeconds: number, options: ThrottleOptions = {}): void {
    this.rules.push({ remaining: count, retryAfterSeconds, ...options });
  }

  reset(): void {
    this.rules = [];
    this.windows.clear();
    this.earlyRetries.length = 0;
  }

  /** Opens a window for a key, as a 429 from anywhere (a batch item, an injected rule) does. */
  open(key: string, retryAfterSeconds: number): void {
    this.windows.set(key, this.now() + retryAfterSeconds * 1000);
  }

  /** The 429 still owed to `key`, if its window is open. */
  private stillClosed(key: string, client: string, method: string, path: string): GraphError | undefined {
    const until = this.windows.get(key);
    if (until === undefined) return undefined;
    const left = until - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return undefined;
    }
    this.earlyRetries.push({ client, method, path, earlyByMs: left, at: this.now() });
    return throttled(Math.ceil(left / 1000));
  }

  /** For a top-level request: an open window, else an injected rule. */
  check(client: string, method: string, path: string): GraphError | undefined {
    const early = this.stillClosed(`client ${client}`, client, method, path);
    if (early) return early;
    const rule = this.rules.find(
      (candidate) =>
        (candidate.pathPrefix === undefined || path.toLowerCase().startsWith(candidate.pathPrefix.toLowerCase())) &&
        (candidate.method === undefined || candidate.method.toUpperCase() === method),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((candidate) => candidate !== rule);
    if (rule.status === 503) return unavailable(rule.retryAfterSeconds);
    this.open(`client ${client}`, rule.retryAfterSeconds);
    return throttled(rule.retryAfterSeconds);
  }

  /** For a `$batch` item: the client's own window or one opened by an earlier 429 of the same item. */
  checkItem(client: string, method: string, url: string): GraphError | undefined {
    return this.stillClosed(`client ${client}`, client, method, url) ?? this.stillClosed(itemKey(client, method, url), client, method, url);
  }

  openItem(client: string, method: string, url: string, retryAfterSeconds: number): void {
    this.open(itemKey(client, method, url), retryAfterSeconds);
  }
}

function itemKey(client: string, method: string, url: string): string {
  return `item ${client} ${method.toUpperCase()} ${url.toLowerCase()}`;
}

export function throttled(retryAfterSeconds: number): GraphError {
  return new GraphError(429, 'activityLimitReached', 'The request has been throttled. Retry after the time given in the Retry-After header.', {
    innerCode: 'throttledRequest',
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

export function unavailable(retryAfterSeconds: number): GraphError {
  return new GraphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable. Retry after the time given in the Retry-After header.', {
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}
