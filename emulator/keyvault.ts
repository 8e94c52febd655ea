/**
 * Key Vault secrets data plane on `<vault>.vault.localhost`.
 *
 * Challenge authentication works as keyvault-common's policy expects: the
 * first request comes without `Authorization` (and without body) and gets a
 * 401 whose `WWW-Authenticate` names the authority and the resource
 * `https://vault.localhost`. The vault host ends with `.vault.localhost`, so
 * the SDK's challenge-resource verification passes without being disabled.
 */
import { randomBytes } from 'node:crypto';
import { LOGIN_HOST } from './entra.ts';
import type { EmulatorContext, EmulatorService } from './types.ts';

export const VAULT_HOST_SUFFIX = '.vault.localhost';
export const VAULT_RESOURCE = 'https://vault.localhost';
export const DEFAULT_VAULT = 'sandbox';
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
/** Vault names are 3-24 letters, digits and dashes. */
const VAULT_HOST = /^[a-z0-9-]{3,24}\.vault\.localhost$/;

export interface StoredSecret {
  name: string;
  version: string;
  value: string;
  enabled: boolean;
  contentType?: string;
  tags: Record<string, string>;
  /** Epoch seconds, as Key Vault reports them. */
  created: number;
  updated: number;
}

export interface SecretOptions {
  vault?: string;
  enabled?: boolean;
  contentType?: string;
  tags?: Record<string, string>;
}

export interface KeyVaultEmulator extends EmulatorService {
  /** Adds a new version (a rotation when the secret exists); returns the version id. */
  setSecret(name: string, value: string, options?: SecretOptions): string;
  /** The latest version, as a vault read would see it, or undefined. */
  getSecret(name: string, options?: { vault?: string }): StoredSecret | undefined;
}

export function vaultHost(vault: string): string {
  return `${vault}${VAULT_HOST_SUFFIX}`;
}

function keyVaultError(
  status: number,
  code: string,
  message: string,
  { innerCode, headers }: { innerCode?: string; headers?: HeadersInit } = {},
): Response {
  const error = innerCode ? { code, message, innererror: { code: innerCode } } : { code, message };
  return Response.json({ error }, { status, headers });
}

export function createKeyVaultService(tenantId: string): KeyVaultEmulator {
  // vault -> lower-case secret name (names are case-insensitive) -> versions, oldest first
  const vaults = new Map<string, Map<string, StoredSecret[]>>();
  const versionsOf = (vault: string, name: string): StoredSecret[] => {
    const secrets = vaults.get(vault) ?? new Map<string, StoredSecret[]>();
    vaults.set(vault, secrets);
    const versions = secrets.get(name.toLowerCase()) ?? [];
    secrets.set(name.toLowerCase(), versions);
    return versions;
  };
  const addVersion = (vault: string, name: string, value: string, options: SecretOptions = {}): StoredSecret => {
    const versions = versionsOf(vault, name);
    const now = Math.floor(Date.now() / 1000);
    const secret: StoredSecret = {
      name: versions[0]?.name ?? name,
      version: randomBytes(16).toString('hex'),
      value,
      enabled: options.enabled ?? true,
      contentType: options.contentType,
      tags: options.tags ?? {},
      created: now,
      updated: now,
    };
    versions.push(secret);
    return secret;
  };

  return {
    name: 'keyvault',
    hostPattern: `<vault>${VAULT_HOST_SUFFIX}`,
    matches: (hostname) => VAULT_HOST.test(hostname),
    setSecret(name, value, options = {}) {
      if (!SECRET_NAME.test(name)) throw new Error(`Invalid Key Vault secret name '${name}'.`);
      return addVersion(options.vault ?? DEFAULT_VAULT, name, value, options).version;
    },
    getSecret: (name, options = {}) => versionsOf(options.vault ?? DEFAULT_VAULT, name).at(-1),
    async handle(req, ctx) {
      const url = new URL(req.url);
      const vault = url.hostname.slice(0, -VAULT_HOST_SUFFIX.length);
      const denied = await checkBearer(req, ctx, tenantId);
      if (denied) return denied;
      if (!url.searchParams.get('api-version')) {
        return keyVaultError(400, 'BadParameter', "The 'api-version' query parameter is missing.");
      }
      const [collection, name = '', version, ...extra] = url.pathname.split('/').filter(Boolean);
      if (collection !== 'secrets' || !SECRET_NAME.test(name) || extra.length > 0) {
        return keyVaultError(404, 'NotFound', `The path ${url.pathname} is not an emulated Key Vault operation.`);
      }
      const bundleFor = (secret: StoredSecret) => secretBundle(ctx.origin(vaultHost(vault)), secret);
      if (req.method === 'GET') return readSecret(versionsOf(vault, name), name, version, bundleFor);
      if (req.method === 'PUT' && !version) {
        const parsed = parseSetSecretBody(await req.text());
        if (typeof parsed === 'string') return keyVaultError(400, 'BadParameter', parsed);
        return Response.json(bundleFor(addVersion(vault, name, parsed.value, parsed)));
      }
      return keyVaultError(405, 'MethodNotAllowed', `${req.method} is not emulated for ${url.pathname}.`);
    },
  };
}

/** Null when the bearer token is valid for the vault; otherwise the 401 challenge. */
async function checkBearer(req: Request, ctx: EmulatorContext, tenantId: string): Promise<Response | null> {
  const challenge = {
    'WWW-Authenticate': `Bearer authorization="${ctx.origin(LOGIN_HOST)}/${tenantId}", resource="${VAULT_RESOURCE}"`,
  };
  if (!req.headers.has('authorization')) {
    return keyVaultError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', { headers: challenge });
  }
  if (await ctx.verifyBearer(req, VAULT_RESOURCE)) return null;
  const message = `AKV10022: Invalid token: expected a valid signature, no expiry and audience ${VAULT_RESOURCE}.`;
  return keyVaultError(401, 'Unauthorized', message, { headers: challenge });
}

function readSecret(
  versions: StoredSecret[],
  name: string,
  version: string | undefined,
  bundleFor: (secret: StoredSecret) => object,
): Response {
  const secret = version ? versions.find((candidate) => candidate.version === version) : versions.at(-1);
  if (!secret) {
    const id = version ? `${name}/${version}` : name;
    return keyVaultError(404, 'SecretNotFound', `A secret with (name/id) ${id} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`);
  }
  if (!secret.enabled) {
    return keyVaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', { innerCode: 'SecretDisabled' });
  }
  return Response.json(bundleFor(secret));
}

function secretBundle(vaultOrigin: string, secret: StoredSecret) {
  return {
    value: secret.value,
    ...(secret.contentType ? { contentType: secret.contentType } : {}),
    id: `${vaultOrigin}/secrets/${secret.name}/${secret.version}`,
    attributes: {
      enabled: secret.enabled,
      created: secret.created,
      updated: secret.updated,
      recoverableDays: 90,
      recoveryLevel: 'Recoverable+Purgeable',
    },
    tags: secret.tags,
  };
}

/** The `SecretSetParameters` body, or an error message. */
function parseSetSecretBody(text: string): ({ value: string } & SecretOptions) | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'The request body is not valid JSON.';
  }
  if (typeof body !== 'object' || body === null || typeof (body as { value?: unknown }).value !== 'string') {
    return "The parameter 'value' is required and must be a string.";
  }
  const { value, contentType, tags, attributes } = body as {
    value: string;
    contentType?: string;
    tags?: Record<string, string>;
    attributes?: { enabled?: boolean };
  };
  return { value, contentType, tags, enabled: attributes?.enabled };
}
