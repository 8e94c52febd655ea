import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { FetchHandler } from '../core/handler.ts';

/** Functions `HttpRequest` (an undici request of the library's own) → global web `Request`. */
export async function toWebRequest(request: HttpRequest): Promise<Request> {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  return new Request(request.url, {
    method: request.method,
    headers: new Headers([...request.headers]),
    body: hasBody ? await request.arrayBuffer() : undefined,
  });
}

export async function toResponseInit(response: Response): Promise<HttpResponseInit> {
  const body = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined;
  return { status: response.status, headers: Object.fromEntries(response.headers), ...(body && { body }) };
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
      webRequest = await toWebRequest(request);
    } catch {
      return { status: 400, jsonBody: { error: 'The request could not be read.' } };
    }
    return toResponseInit(await fetch(webRequest));
  };
}
