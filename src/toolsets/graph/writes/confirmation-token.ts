import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../../../auth/principal.ts';
import type { CursorKey, CursorKeySource } from '../../../graph/cursor-keys.ts';

/**
 * Confirmation tokens for writes under `GRAPH_WRITE_CONFIRMATION=preview`:
 * the first call sends nothing and returns a preview with a token; only a
 * second call with the same arguments and that token sends. The token is
 * stateless and integrity-protected, like the Graph cursors, with keys from
 * the same source (Key Vault, or one random key per instance), but never
 * with the same key: each key is first derived for this purpose
 * (HMAC(key, "graph-write-confirmation/v1")), so a cursor can never pass as
 * a confirmation or the reverse.
 *
 * A token binds the caller (tenant and object id), the tool, a canonical
 * hash of the arguments (without the token) and an expiry. Other arguments,
 * another caller or tool, an altered or an expired token: refused. A token
 * that confirmed a call is refused on this instance from then on, so a
 * model calling again cannot send the same thing twice here; with no shared
 * state, another instance would still accept it until it expires (5 minutes).
 *
 * Format: `w1.<key id>.<base64url JSON>.<base64url HMAC of the rest>`.
 */

const VERSION = 'w1';
const PURPOSE = 'graph-write-confirmation/v1';
const MAX_TOKEN_LENGTH = 1024;
export const CONFIRMATION_TTL_MS = 5 * 60_000;

export type ConfirmationRefusal = 'malformed' | 'unknown_key' | 'tampered' | 'expired' | 'other_caller' | 'other_tool' | 'other_arguments' | 'already_used';

const REFUSAL_TEXT: Record<ConfirmationRefusal, string> = {
  malformed: 'is not a confirmation token this server issued',
  unknown_key: 'was signed with a key this server no longer accepts',
  tampered: 'was altered',
  expired: 'has expired (tokens live 5 minutes)',
  other_caller: 'was issued to another user',
  other_tool: 'belongs to another tool',
  other_arguments: 'was issued for other arguments than this call (any change to what is sent needs a new preview)',
  already_used: 'was already used: one confirmation sends once',
};

/** Tokens remembered as used, per instance (a bound on memory; older entries expire with their tokens anyway). */
const MAX_REMEMBERED = 10_000;

export class ConfirmationRefusedError extends Error {
  constructor(readonly reason: ConfirmationRefusal) {
    super(`The confirmationToken ${REFUSAL_TEXT[reason]}; nothing was sent.`);
    this.name = 'ConfirmationRefusedError';
  }
}

export interface ConfirmationScope {
  caller: Pick<Principal, 'tenantId' | 'objectId'>;
  tool: string;
  /** The call's arguments without `confirmationToken`. */
  args: Record<string, unknown>;
}

export interface ConfirmationCodec {
  issue(scope: ConfirmationScope): Promise<{ token: string; expiresAt: string }>;
  /** Resolves when the token confirms exactly this call; else ConfirmationRefusedError. */
  verify(scope: ConfirmationScope, token: string): Promise<void>;
}

export interface ConfirmationCodecOptions {
  keys: CursorKeySource;
  ttlMs?: number;
  now?: () => number;
}

/** JSON with object keys sorted at every depth: the same arguments give the same text whatever their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const argumentsHash = (args: Record<string, unknown>): string => createHash('sha256').update(canonicalJson(args)).digest('base64url');

const callerOf = (caller: ConfirmationScope['caller']) => `${caller.tenantId ?? '-'}/${caller.objectId ?? '-'}`;

interface Payload {
  /** caller */
  c: string;
  /** tool */
  t: string;
  /** arguments hash */
  h: string;
  /** expires, epoch ms */
  e: number;
}

export function createConfirmationCodec(options: ConfirmationCodecOptions): ConfirmationCodec {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? CONFIRMATION_TTL_MS;
  // Derived once per key object (the source caches keys; a rotation brings new objects).
  const derived = new WeakMap<CursorKey, Buffer>();
  const purposeKey = (key: CursorKey) => {
    let secret = derived.get(key);
    if (!secret) derived.set(key, (secret = createHmac('sha256', key.secret).update(PURPOSE).digest()));
    return secret;
  };
  const mac = (key: CursorKey, signed: string) => createHmac('sha256', purposeKey(key)).update(signed).digest();
  /** signature → expiry (epoch ms) of tokens that confirmed a call. */
  const used = new Map<string, number>();
  const remember = (signature: string, expires: number) => {
    for (const [seen, until] of used) {
      if (until > now() && used.size < MAX_REMEMBERED) break;
      used.delete(seen);
    }
    used.set(signature, expires);
  };

  return {
    async issue(scope) {
      const { current } = await options.keys();
      const expires = now() + ttlMs;
      const payload: Payload = { c: callerOf(scope.caller), t: scope.tool, h: argumentsHash(scope.args), e: expires };
      const signed = `${VERSION}.${current.id}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return { token: `${signed}.${mac(current, signed).toString('base64url')}`, expiresAt: new Date(expires).toISOString() };
    },

    async verify(scope, token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new ConfirmationRefusedError('malformed');
      const parts = token.split('.');
      const [version, keyId, body, signature] = parts;
      if (parts.length !== 4 || version !== VERSION || !keyId || !body || !signature) throw new ConfirmationRefusedError('malformed');
      const keys = await options.keys();
      const key = [keys.current, keys.previous].find((candidate) => candidate?.id === keyId);
      if (!key) throw new ConfirmationRefusedError('unknown_key');
      const expected = mac(key, `${version}.${keyId}.${body}`);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected) || given.toString('base64url') !== signature) {
        throw new ConfirmationRefusedError('tampered');
      }
      const payload = parsePayload(body);
      if (payload.e <= now()) throw new ConfirmationRefusedError('expired');
      if (payload.c !== callerOf(scope.caller)) throw new ConfirmationRefusedError('other_caller');
      if (payload.t !== scope.tool) throw new ConfirmationRefusedError('other_tool');
      if (payload.h !== argumentsHash(scope.args)) throw new ConfirmationRefusedError('other_arguments');
      if (used.has(signature)) throw new ConfirmationRefusedError('already_used');
      remember(signature, payload.e);
    },
  };
}

function parsePayload(body: string): Payload {
  let payload: Partial<Payload>;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload>;
  } catch {
    throw new ConfirmationRefusedError('malformed');
  }
  if (typeof payload.c !== 'string' || typeof payload.t !== 'string' || typeof payload.h !== 'string' || typeof payload.e !== 'number') throw new ConfirmationRefusedError('malformed');
  return payload as Payload;
}
