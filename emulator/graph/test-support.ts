/**
 * Shared setup of the Graph module's tests: one emulator, tokens as Graph receives them
 * (delegated: `scp`; app-only: `roles`, `idtyp: app`) and a small fetch wrapper.
 */
import { startEmulator, TEST_USER_ID, type Emulator } from '../server.ts';
import { GRAPH_RESOURCE } from './service.ts';

export async function graphEmulator(): Promise<Emulator> {
  return startEmulator();
}

export function delegatedToken(emulator: Emulator, scp: string, claims: Record<string, unknown> = {}): Promise<string> {
  return emulator.mintToken({ aud: GRAPH_RESOURCE, scp, idtyp: 'user', appid: '00000000-0000-4000-8000-00000000a9a1', oid: TEST_USER_ID, ...claims });
}

export function appToken(emulator: Emulator, roles: string[], claims: Record<string, unknown> = {}): Promise<string> {
  const oid = '00000000-0000-4000-8000-00000000b1d0';
  return emulator.mintToken({ aud: GRAPH_RESOURCE, roles, idtyp: 'app', appid: '00000000-0000-4000-8000-00000000c1d0', oid, sub: oid, ...claims });
}

export interface GraphAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** A request to the emulated Graph: `path` below `/v1.0` (or an absolute URL, e.g. a nextLink). */
export async function graph(emulator: Emulator, token: string | undefined, method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; redirect?: RequestRedirect } = {}): Promise<GraphAnswer> {
  const url = /^https:/.test(path) ? path : `${emulator.graph.endpoint}/v1.0${path}`;
  const response = await fetch(url, {
    method,
    redirect: options.redirect ?? 'follow',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (file content, $count).
  }
  return { status: response.status, headers: response.headers, body };
}
