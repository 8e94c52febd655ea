/**
 * What a Graph handler receives: the caller as Graph sees it from the access token, the resolved
 * route parameters and the query, for one top-level request or one `$batch` item.
 *
 * Delegated vs app-only follows Graph (graph-protocol.md §1, §11): a token with `scp` is a
 * user's (delegated) token and its permissions are the space-separated `scp`; a token without
 * `scp` (or with `idtyp: app`) is app-only and its permissions are `roles`.
 */
import type { GraphTenant } from './store.ts';
import type { RequestIds } from './errors.ts';

export interface Caller {
  kind: 'delegated' | 'application';
  /** The signed-in user's object id (delegated only). */
  userId?: string;
  /** Client id of the app the token was issued to (`appid` or `azp`). */
  appId: string;
  tenantId: string;
  /** `scp` (delegated) or `roles` (application), as sent. */
  permissions: string[];
  /** Throttling is per app and user (delegated) or per app (app-only): the key of its window. */
  throttleKey: string;
}

export interface GraphCall {
  method: string;
  /** The path below the version root after `/me` was resolved, e.g. `/users/<id>/messages`. */
  path: string;
  /** The path as the client sent it below the version root (before `/me` was resolved). */
  requestedPath: string;
  /** Whether the client addressed the resource through `/me`. */
  viaMe: boolean;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Headers;
  /** Parsed JSON body (undefined when none). */
  body: unknown;
  caller: Caller;
  ids: RequestIds;
  tenant: GraphTenant;
  /** `https://graph.localhost:<port>/v1.0`: the root absolute links are built from. */
  root: string;
  /** `https://graph.localhost:<port>`: for links outside the version root (download URLs). */
  origin: string;
  now(): number;
}
