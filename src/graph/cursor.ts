import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import type { CursorKey, CursorKeySource } from './cursor-keys.ts';
import { isEndpointUrl, type GraphEndpoint } from './endpoint.ts';

/**
 * Opaque, stateless continuation cursors. A cursor carries where the next
 * page starts (a Graph URL, normally an `@odata.nextLink`, and how many
 * items of that page were already returned) and what it is for (the caller,
 * the tool, the resource), with an expiry, all under an HMAC-SHA256.
 *
 * So a client can hand back only what the server gave it: an altered
 * cursor, one issued to another user, for another tool or another
 * resource (another channel's messages), an expired one, or one whose link
 * is not on the configured Graph host, is refused before anything is sent.
 * Nothing is stored on the server: any instance that has the key verifies.
 *
 * The content is signed, not encrypted: it holds the caller's own ids and a
 * link the caller was allowed to read, nothing they could not see.
 *
 * Format: `g1.<key id>.<base64url JSON>.<base64url HMAC of the rest>`.
 */

const VERSION = 'g1';
/** Links with skiptokens are long; anything much longer is no cursor of ours. */
const MAX_CURSOR_LENGTH = 8192;

export type CursorRefusal = 'malformed' | 'unknown_key' | 'tampered' | 'expired' | 'other_caller' | 'other_tool' | 'other_resource' | 'foreign_origin';

const REFUSAL_TEXT: Record<CursorRefusal, string> = {
  malformed: 'is not a cursor this server issued',
  unknown_key: 'was signed with a key this server no longer accepts',
  tampered: 'was altered',
  expired: 'has expired',
  other_caller: 'was issued to another user',
  other_tool: 'belongs to another tool',
  other_resource: 'belongs to another resource (other ids than this call)',
  foreign_origin: 'points outside the configured Microsoft Graph host',
};

export class CursorRefusedError extends Error {
  constructor(readonly reason: CursorRefusal) {
    super(`The cursor ${REFUSAL_TEXT[reason]}; nothing was sent.`);
    this.name = 'CursorRefusedError';
  }
}

/** What a cursor is bound to. `resource` is the call's resource path (`/teams/<id>/channels/<id>/messages`). */
export interface CursorScope {
  caller: Pick<Principal, 'tenantId' | 'objectId' | 'appId'>;
  tool: string;
  resource: string;
}

/** Where the next page starts: fetch `link`, skip its first `skip` items (returned already). */
export interface CursorPosition {
  link: string;
  skip: number;
}

export interface CursorCodec {
  encode(scope: CursorScope, position: CursorPosition): Promise<string>;
  /** The position, or CursorRefusedError. */
  decode(scope: CursorScope, cursor: string): Promise<CursorPosition>;
}

export interface CursorCodecOptions {
  keys: CursorKeySource;
  endpoint: GraphEndpoint;
  ttlMs: number;
  now?: () => number;
}

interface Payload {
  /** link */
  l: string;
  /** skip */
  s: number;
  /** tool */
  t: string;
  /** resource */
  r: string;
  /** caller */
  c: string;
  /** expires, epoch seconds */
  e: number;
}

/** Who a cursor belongs to: tenant and object id (an app without one: its client id). */
export function callerKey(caller: CursorScope['caller']): string {
  const who = caller.objectId ?? (caller.appId ? `app:${caller.appId}` : 'anonymous');
  return `${caller.tenantId ?? '-'}/${who}`;
}

const mac = (key: CursorKey, signed: string) => createHmac('sha256', key.secret).update(signed).digest();

export function createCursorCodec(options: CursorCodecOptions): CursorCodec {
  const now = options.now ?? Date.now;
  return {
    async encode(scope, position) {
      if (!isEndpointUrl(options.endpoint, position.link)) throw new CursorRefusedError('foreign_origin');
      if (!Number.isInteger(position.skip) || position.skip < 0) throw new Error('cursor skip must be a whole number');
      const { current } = await options.keys();
      const payload: Payload = {
        l: position.link,
        s: position.skip,
        t: scope.tool,
        r: scope.resource,
        c: callerKey(scope.caller),
        e: Math.floor((now() + options.ttlMs) / 1000),
      };
      const signed = `${VERSION}.${current.id}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${signed}.${mac(current, signed).toString('base64url')}`;
    },

    async decode(scope, cursor) {
      if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH) throw new CursorRefusedError('malformed');
      const parts = cursor.split('.');
      const [version, keyId, body, signature] = parts;
      if (parts.length !== 4 || version !== VERSION || !keyId || !body || !signature) throw new CursorRefusedError('malformed');
      const keys = await options.keys();
      const key = [keys.current, keys.previous].find((candidate) => candidate?.id === keyId);
      if (!key) throw new CursorRefusedError('unknown_key');
      const expected = mac(key, `${version}.${keyId}.${body}`);
      const given = Buffer.from(signature, 'base64url');
      // Also refuses a signature that decodes to the right bytes from a non-canonical spelling.
      if (given.length !== expected.length || !timingSafeEqual(given, expected) || given.toString('base64url') !== signature) {
        throw new CursorRefusedError('tampered');
      }
      const payload = parsePayload(body);
      if (payload.e * 1000 <= now()) throw new CursorRefusedError('expired');
      if (payload.c !== callerKey(scope.caller)) throw new CursorRefusedError('other_caller');
      if (payload.t !== scope.tool) throw new CursorRefusedError('other_tool');
      if (payload.r !== scope.resource) throw new CursorRefusedError('other_resource');
      // Never signed otherwise; checked again in case the endpoint setting changed since.
      if (!isEndpointUrl(options.endpoint, payload.l)) throw new CursorRefusedError('foreign_origin');
      return { link: payload.l, skip: payload.s };
    },
  };
}

function parsePayload(body: string): Payload {
  let payload: Partial<Payload>;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload>;
  } catch {
    throw new CursorRefusedError('malformed');
  }
  const ok =
    typeof payload.l === 'string' &&
    Number.isInteger(payload.s) &&
    (payload.s as number) >= 0 &&
    typeof payload.t === 'string' &&
    typeof payload.r === 'string' &&
    typeof payload.c === 'string' &&
    typeof payload.e === 'number';
  if (!ok) throw new CursorRefusedError('malformed');
  return payload as Payload;
}
