import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { abortKind, CallAbortedError } from '../core/abort.ts';
import { CircuitOpenError, isServiceFailure, type CircuitBreaker } from './circuit-breaker.ts';
import { isEndpointUrl, type GraphEndpoint } from './endpoint.ts';
import { methodOf } from './retry-policy.ts';

/**
 * Our three links of the Graph client's middleware chain (graph-client.ts
 * puts them around the client's own handlers). They are plain objects of
 * the SDK's `Middleware` shape, so defining them loads nothing.
 *
 * Errors they raise must survive the client: GraphRequest turns any error
 * into a GraphError with only name and message, except GraphClientError,
 * which it rethrows as is. `passThrough` (from graph-client.ts, over the
 * loaded SDK) wraps ours in a GraphClientError whose `cause` is the typed
 * error, which graph-errors.ts finds again.
 */

export type PassThrough = (error: Error) => Error;

/** What the terminal handler calls: `fetch`, injected (tests, the emulator's CA) instead of the global. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** No answer within the per-attempt timeout. For a POST or PATCH the request may have run. */
export class GraphTimeoutError extends Error {
  readonly mayHaveRun: boolean;
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`Microsoft Graph did not answer a ${method} within ${Math.round(timeoutMs / 1000)} s.`);
    this.name = 'GraphTimeoutError';
    this.mayHaveRun = method !== 'GET' && method !== 'HEAD';
  }
}

/** The network failed (DNS, TLS, connection reset) before an answer. */
export class GraphUnreachableError extends Error {
  constructor(
    readonly method: string,
    cause: unknown,
  ) {
    const detail = (cause as { cause?: { code?: string } } | undefined)?.cause?.code ?? (cause as Error | undefined)?.message ?? String(cause);
    super(`Microsoft Graph could not be reached (${detail}).`);
    this.name = 'GraphUnreachableError';
  }
}

/** A request for a URL outside the configured Graph endpoint: refused before any token was attached. */
export class GraphHostRefusedError extends Error {
  constructor(readonly origin: string) {
    // The origin only: a full URL may carry personal data or a pre-authenticated link.
    super(`Refused to send a Graph request to ${origin}: only the configured Graph endpoint is called.`);
    this.name = 'GraphHostRefusedError';
  }
}

const urlOf = (context: Context) => (typeof context.request === 'string' ? context.request : context.request.url);

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return 'an unparsable URL';
  }
};

abstract class Link implements Middleware {
  protected next: Middleware | undefined;
  abstract execute(context: Context): Promise<void>;
  setNext(next: Middleware): void {
    this.next = next;
  }
  protected async forward(context: Context): Promise<void> {
    if (!this.next) throw new Error('Graph middleware chain ends without a handler');
    await this.next.execute(context);
  }
}

/** First link: nothing leaves for another host (a nextLink or cursor pointing elsewhere, a bug). */
export class HostGuard extends Link {
  constructor(
    private readonly endpoint: GraphEndpoint,
    private readonly passThrough: PassThrough,
  ) {
    super();
  }
  async execute(context: Context): Promise<void> {
    const url = urlOf(context);
    if (!isEndpointUrl(this.endpoint, url)) throw this.passThrough(new GraphHostRefusedError(originOf(url)));
    await this.forward(context);
  }
}

const isNetworkFailure = (error: unknown) => {
  const cause = (error as { cause?: unknown }).cause ?? error;
  return cause instanceof GraphTimeoutError || cause instanceof GraphUnreachableError;
};

/** Around the RetryHandler, so one outcome per request (after its retries) counts. */
export class CircuitBreakerLink extends Link {
  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly passThrough: PassThrough,
  ) {
    super();
  }
  async execute(context: Context): Promise<void> {
    const refused = this.breaker.admit();
    if (refused) throw this.passThrough(new CircuitOpenError(refused.retryAfterMs));
    try {
      await this.forward(context);
    } catch (error) {
      if (isNetworkFailure(error)) this.breaker.failure();
      else this.breaker.neutral();
      throw error;
    }
    if (context.response && isServiceFailure(context.response.status)) this.breaker.failure();
    else this.breaker.success();
  }
}

/**
 * The last link, instead of the SDK's HTTPMessageHandler (which calls the
 * global fetch with no deadline): the injected fetch, a deadline per attempt
 * (our own timer; `AbortSignal.timeout` can fire late under load,
 * nodejs/node#57736), and the call's own signal, whose abort reason (the
 * client went away, or cancelled) is kept.
 */
export class FetchLink implements Middleware {
  constructor(
    private readonly fetch: FetchLike,
    private readonly timeoutMs: number,
    private readonly passThrough: PassThrough,
  ) {}

  async execute(context: Context): Promise<void> {
    const method = methodOf(context.request, context.options);
    const caller = context.options?.signal ?? undefined;
    const callerAborted = () => {
      const reason: unknown = caller?.reason;
      return reason instanceof CallAbortedError ? reason : new CallAbortedError(abortKind(reason));
    };
    if (caller?.aborted) throw this.passThrough(callerAborted());
    const controller = new AbortController();
    const timeout = new GraphTimeoutError(method, this.timeoutMs);
    const timer = setTimeout(() => controller.abort(timeout), this.timeoutMs);
    const onAbort = () => controller.abort(callerAborted());
    caller?.addEventListener('abort', onAbort, { once: true });
    try {
      context.response = await this.fetch(context.request, { ...context.options, signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) throw this.passThrough(controller.signal.reason as Error);
      throw this.passThrough(new GraphUnreachableError(method, error));
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    }
  }
}
