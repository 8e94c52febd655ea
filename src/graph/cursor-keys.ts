import { createHash, randomBytes } from 'node:crypto';
import type { SecretProvider } from '../azure/secrets.ts';

/**
 * Where cursor keys come from. Cursors are signed with `current` and
 * accepted with `current` or `previous`, so a key can be rotated without
 * breaking the cursors clients hold: put the new key in the current secret
 * and the old one in the previous secret, and drop the previous one once
 * cursors signed with it have expired (GRAPH_CURSOR_TTL_SECONDS).
 */

export const MIN_CURSOR_KEY_BYTES = 32;

export interface CursorKey {
  /** Short public id of the key (a hash prefix), carried in cursors so the verifier picks the key without trying each. */
  readonly id: string;
  readonly secret: Buffer;
}

export interface CursorKeys {
  current: CursorKey;
  previous?: CursorKey;
}

export type CursorKeySource = () => Promise<CursorKeys>;

export class CursorKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorKeyError';
  }
}

export function cursorKey(material: string | Buffer): CursorKey {
  const secret = typeof material === 'string' ? Buffer.from(material, 'utf8') : Buffer.from(material);
  if (secret.length < MIN_CURSOR_KEY_BYTES) throw new CursorKeyError(`a cursor key needs at least ${MIN_CURSOR_KEY_BYTES} bytes (e.g. openssl rand -base64 48), this one has ${secret.length}`);
  const id = createHash('sha256').update('graph-cursor-key\0').update(secret).digest('base64url').slice(0, 8);
  return Object.freeze({ id, secret });
}

/**
 * The keys from Key Vault, through the secret provider (cached, re-read
 * after its TTL, so a rotation reaches every instance). A previous key that
 * cannot be read only means older cursors are refused: signing goes on.
 */
export function secretCursorKeys(secrets: SecretProvider, names: { current: string; previous?: string | undefined }): CursorKeySource {
  return async () => {
    const [current, previous] = await Promise.all([
      secrets.get(names.current),
      names.previous ? secrets.get(names.previous).catch(() => undefined) : Promise.resolve(undefined),
    ]);
    const keys: CursorKeys = { current: cursorKey(current) };
    if (previous) {
      try {
        keys.previous = cursorKey(previous);
      } catch {
        // Too short to be a key: treated as absent (the current key is what matters).
      }
    }
    return keys;
  };
}

/** A random key for this process only (sandbox, one instance): cursors do not survive a restart or reach another instance. */
export function ephemeralCursorKeys(): CursorKeySource {
  const keys: CursorKeys = { current: cursorKey(randomBytes(32)) };
  return async () => keys;
}
