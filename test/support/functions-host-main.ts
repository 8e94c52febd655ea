// A stand-in for the Azure Functions host (which cannot be installed here), for
// end-to-end tests of the built Functions entry, dist/functions.js (package.json
// `main`). It loads the entry exactly as the worker does, captures what it
// registers with @azure/functions, and serves those handlers over HTTP the way
// the worker's HTTP-stream proxy does (azure-functions-nodejs-library,
// src/http/httpProxy.ts and createStreamRequest.ts): the library's HttpRequest
// around a native streaming Request, the handler's answer wrapped in the
// library's HttpResponse and written out chunk by chunk as its body yields.
// Like the platform it routes by function route with routePrefix "" and checks
// the function key (x-functions-key or ?code=) on authLevel "function" routes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type * as Functions from '@azure/functions';

const require = createRequire(import.meta.url);
// The same module instance the entry imports (it is external to the bundle).
const functions = require('@azure/functions') as typeof Functions;
const ENTRY = fileURLToPath(new URL('../../dist/functions.js', import.meta.url));
const FUNCTION_KEY = process.env.TEST_FUNCTIONS_HOST_KEY ?? 'test-function-key';

const routes = new Map<string, Functions.HttpFunctionOptions>();
const terminateHooks: Array<() => unknown> = [];
let setupOptions: Functions.SetupOptions | undefined;

const originalSetup = Object.getOwnPropertyDescriptor(functions.app, 'setup')?.get?.call(functions.app) as (options: Functions.SetupOptions) => void;
Object.defineProperty(functions.app, 'setup', {
  value: (options: Functions.SetupOptions) => {
    setupOptions = options;
    originalSetup(options);
  },
});
functions.app.http = (_name: string, options: Functions.HttpFunctionOptions) => void routes.set(`/${options.route}`, options);
functions.app.hook.appTerminate = ((hook: () => unknown) => {
  terminateHooks.push(hook);
  return { dispose() {} };
}) as typeof functions.app.hook.appTerminate;

await import(ENTRY);

const BLOCKED_RESPONSE_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding']);

async function serve(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const route = routes.get(url.pathname);
  if (!route) return void res.writeHead(404).end();
  const methods = route.methods ?? ['GET', 'POST'];
  if (!methods.includes((req.method ?? 'GET') as Functions.HttpMethod)) return void res.writeHead(405).end();
  if (route.authLevel === 'function' && req.headers['x-functions-key'] !== FUNCTION_KEY && url.searchParams.get('code') !== FUNCTION_KEY) {
    return void res.writeHead(401).end();
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
  const nativeRequest = new Request(url, {
    method: req.method,
    headers,
    ...(hasBody && { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' }),
  } as RequestInit);
  const request = new functions.HttpRequest({ nativeRequest, params: {} } as unknown as Functions.HttpRequestInit);
  const context = new functions.InvocationContext({ functionName: url.pathname.slice(1) });
  const result = (await route.handler(request, context)) as Functions.HttpResponseInit;
  const response = result instanceof functions.HttpResponse ? result : new functions.HttpResponse(result);
  for (const [name, value] of response.headers.entries()) if (!BLOCKED_RESPONSE_HEADERS.has(name)) res.setHeader(name, value);
  res.statusCode = response.status;
  res.flushHeaders();
  if (response.body) for await (const chunk of response.body.values()) res.write(chunk);
  res.end();
}

const server = createServer((req, res) => {
  serve(req, res).catch((error: unknown) => {
    process.stderr.write(`functions host: ${(error as Error).stack}\n`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stderr.write(`functions host: setup ${JSON.stringify(setupOptions)}\n`);
  process.stderr.write(`MCP endpoint: http://127.0.0.1:${port}/mcp\n`);
});
process.on('SIGTERM', async () => {
  server.close();
  server.closeAllConnections();
  for (const hook of terminateHooks) await hook();
  process.exit(0);
});
