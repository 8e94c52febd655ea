/**
 * Path matching for the emulated Graph: `/v1.0` (and `/beta`, served the same) below the root,
 * segments compared case-insensitively as Graph does, OData key syntax (`/teams('id')`, the form
 * of the team-creation `Location` header) read like a path segment, and `/me` resolved to
 * `/users/{signed-in user}` or refused for app-only tokens with Graph's 400
 * ("/me request is only valid with delegated authentication flow.", graph-protocol.md §5).
 * An unknown path answers Graph's 400 "Resource not found for the segment '…'." and a known path
 * with another method 405 (`unconfirmed`: the exact body of Graph's 405).
 */
import { GraphError } from './errors.ts';
import type { Caller, GraphCall } from './context.ts';

export type Handler = (call: GraphCall) => Response | Promise<Response>;

export interface Route {
  method: string;
  /** e.g. `/users/{user}/mailFolders/{folder}/messages`. */
  pattern: string;
  handle: Handler;
}

/** Splits a path below the version root into decoded segments, reading `name('key')` as `name/key`. */
export function segmentsOf(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.split('/').filter(Boolean)) {
    const decoded = safeDecode(raw);
    const key = /^([^()]+)\('(.*)'\)$/.exec(decoded) ?? /^([^()]+)\(([^'()]*)\)$/.exec(decoded);
    if (key) out.push(key[1]!, key[2]!.replace(/''/g, "'"));
    else out.push(decoded);
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface Resolved {
  segments: string[];
  viaMe: boolean;
}

export function resolveMe(segments: string[], caller: Caller): Resolved {
  if (segments[0]?.toLowerCase() !== 'me') return { segments, viaMe: false };
  if (caller.kind !== 'delegated' || !caller.userId) {
    throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
  }
  return { segments: ['users', caller.userId, ...segments.slice(1)], viaMe: true };
}

export class Router {
  private readonly routes: Array<Route & { parts: string[] }> = [];

  add(method: string, pattern: string, handle: Handler): this {
    this.routes.push({ method, pattern, handle, parts: pattern.split('/').filter(Boolean) });
    return this;
  }

  match(method: string, segments: string[]): { route: Route; params: Record<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchParts(route.parts, segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method === method) return { route, params };
    }
    if (pathMatched) throw new GraphError(405, 'Request_BadRequest', `The method '${method}' is not allowed on this resource.`);
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${unknownSegment(this.routes, segments)}'.`);
  }
}

function matchParts(parts: string[], segments: string[]): Record<string, string> | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index]!;
    if (part.startsWith('{')) params[part.slice(1, -1)] = segment;
    else if (part.toLowerCase() !== segment.toLowerCase()) return undefined;
  }
  return params;
}

/** The first segment no route continues with, as Graph names it in its 400. */
function unknownSegment(routes: Array<{ parts: string[] }>, segments: string[]): string {
  let depth = 0;
  while (depth < segments.length && routes.some((route) => route.parts.length > depth && matchParts(route.parts.slice(0, depth + 1), segments.slice(0, depth + 1)))) {
    depth += 1;
  }
  return segments[Math.min(depth, segments.length - 1)] ?? '';
}
