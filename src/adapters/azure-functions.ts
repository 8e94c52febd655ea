import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { FetchHandler } from '../core/handler.ts';

/**
 * Functions `HttpRequest` → global web `Request`. The body stays a stream
 * (with `enableHttpStream` the host hands it over as it arrives), so the core
 * handler's body limit stops reading an oversized upload early.
 */
export function toWebRequest(request: HttpRequest): Request {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null;
  return new Request(request.url, {
    method: request.method,
    headers: new Headers([...request.headers]),
    ...(hasBody && { body: request.body as ReadableStream<Uint8Array>, duplex: 'half' }),
  } as RequestInit);
}

/** Web `Response` → `HttpResponseInit`, the body passed on as a stream (progress events reach the client as they are sent). */
export function toResponseInit(response: Response): HttpResponseInit {
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    ...(response.body && { body: response.body as HttpResponseInit['body'] }),
  };
}

/**
 * Adapts the core handler to an `app.http` handler. Like the Node host it
 * only converts: a request that cannot be converted is a 400, and the core
 * handler's own answers pass through untouched.
 */
export function functionsHandler(fetch: FetchHandler) {
  return async (request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> => {
    let webRequest: Request;
    try {
      webRequest = toWebRequest(request);
    } catch {
      return { status: 400, jsonBody: { error: 'The request could not be read.' } };
    }
    return toResponseInit(await fetch(webRequest));
  };
}
