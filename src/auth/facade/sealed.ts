import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Sealed values: what the authorization-server facade hands out and gets
 * back (the `state` it sends to Entra, the codes and client ids it gives
 * clients) is AES-256-GCM encrypted and authenticated, so any instance can
 * read it and nobody else can read or change it. Nothing is stored.
 *
 * The key material is one Key Vault secret holding one or more keys
 * separated by whitespace or commas: the first seals, every one opens. To
 * rotate, set `<new> <old>`, and drop `<old>` once what it sealed has
 * expired (state and codes: minutes; client ids: until clients register again).
 * Each value names the key it was sealed with (a short hash), so opening
 * picks the key without trying them all.
 *
 * A purpose (`state`, `code`, `client`) is authenticated with the value, so
 * a value sealed for one use is refused for another.
 */

export type SealPurpose = 'state' | 'code' | 'client';

export interface KeyRing {
  seal(purpose: SealPurpose, payload: object, options?: { ttlSeconds?: number }): string;
  /** The payload, or why it was refused (never which key or byte was wrong). */
  open<T extends object>(purpose: SealPurpose, sealed: string): { ok: true; payload: T } | { ok: false; reason: 'malformed' | 'unknown_key' | 'tampered' | 'expired' };
}

const VERSION = 'v1';
/** Fewer characters would let a weak secret in; the Bicep default is two GUIDs (64 hex digits). */
export const MIN_KEY_CHARACTERS = 32;

interface Key {
  id: string;
  bytes: Buffer;
}

function deriveKey(material: string): Key {
  const id = createHash('sha256').update(material).digest('base64url').slice(0, 8);
  const bytes = Buffer.from(hkdfSync('sha256', material, 'azure-mcp-functions/oauth-facade', 'aes-256-gcm v1', 32));
  return { id, bytes };
}

/** The ring from the secret's value; throws (without echoing it) when it holds no usable key. */
export function keyRingFrom(secretValue: string, now: () => number = Date.now): KeyRing {
  const materials = secretValue.split(/[\s,]+/).filter(Boolean);
  if (materials.length === 0 || materials.some((material) => material.length < MIN_KEY_CHARACTERS)) {
    throw new Error(`the facade key secret must hold one or more keys of at least ${MIN_KEY_CHARACTERS} characters, separated by spaces`);
  }
  const keys = materials.map(deriveKey);
  const current = keys[0] as Key;
  const byId = new Map(keys.map((key) => [key.id, key]));
  const seconds = () => Math.floor(now() / 1000);

  return {
    seal(purpose, payload, options = {}) {
      const body = options.ttlSeconds === undefined ? payload : { ...payload, exp: seconds() + options.ttlSeconds };
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.bytes, iv);
      cipher.setAAD(Buffer.from(`${VERSION}.${current.id}.${purpose}`));
      const encrypted = Buffer.concat([cipher.update(JSON.stringify(body), 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${current.id}.${iv.toString('base64url')}.${encrypted.toString('base64url')}`;
    },
    open<T extends object>(purpose: SealPurpose, sealed: string) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) return { ok: false as const, reason: 'malformed' as const };
      const [, keyId = '', ivText = '', dataText = ''] = parts;
      const key = byId.get(keyId);
      if (!key) return { ok: false as const, reason: 'unknown_key' as const };
      const iv = Buffer.from(ivText, 'base64url');
      const data = Buffer.from(dataText, 'base64url');
      if (iv.length !== 12 || data.length <= 16) return { ok: false as const, reason: 'malformed' as const };
      let plain: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv);
        decipher.setAAD(Buffer.from(`${VERSION}.${keyId}.${purpose}`));
        decipher.setAuthTag(data.subarray(data.length - 16));
        plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        return { ok: false as const, reason: 'tampered' as const };
      }
      const payload = JSON.parse(plain) as T & { exp?: number };
      if (typeof payload.exp === 'number' && payload.exp < seconds()) return { ok: false as const, reason: 'expired' as const };
      return { ok: true as const, payload };
    },
  };
}
