import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthFailure } from './entra-token.ts';
import {
  authChallengeResponse,
  protectedResourceMetadata,
  protectedResourceMetadataPaths,
  protectedResourceMetadataResponse,
  protectedResourceMetadataUrl,
  protectedResourceSettingsFrom,
  wwwAuthenticate,
} from './protected-resource.ts';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const TENANT_2 = '00000000-0000-4000-8000-0000000e7a18';
const CLIENT = '11111111-2222-4333-8444-555555555555';
const ENTRA = { authorityHost: 'https://login.microsoftonline.com', tenantIds: [TENANT], identifierUri: `api://${CLIENT}`, requiredScope: 'user_impersonation' };
const settings = protectedResourceSettingsFrom(ENTRA, 'https://app.azurewebsites.net/mcp');
const SCOPE = `api://${CLIENT}/user_impersonation`;
const PRM_URL = 'https://app.azurewebsites.net/.well-known/oauth-protected-resource/mcp';

describe('protected resource metadata', () => {
  it('has the RFC 9728 shape with the configured resource, Entra v2 issuer and qualified scope', () => {
    assert.deepEqual(protectedResourceMetadata(settings), {
      resource: 'https://app.azurewebsites.net/mcp',
      authorization_servers: [`https://login.microsoftonline.com/${TENANT}/v2.0`],
      scopes_supported: [SCOPE],
      bearer_methods_supported: ['header'],
    });
  });

  it('lists every allowed tenant, follows the authority host, names the resource when asked', () => {
    const multi = protectedResourceSettingsFrom(
      { ...ENTRA, authorityHost: 'https://login.localhost:8443', tenantIds: [TENANT, TENANT_2] },
      'https://app.azurewebsites.net/mcp/',
      'Azure data (MCP)',
    );
    const document = protectedResourceMetadata(multi);
    assert.deepEqual(document.authorization_servers, [`https://login.localhost:8443/${TENANT}/v2.0`, `https://login.localhost:8443/${TENANT_2}/v2.0`]);
    assert.equal(document.resource, 'https://app.azurewebsites.net/mcp', 'no trailing slash');
    assert.equal(document.resource_name, 'Azure data (MCP)');
  });

  it('never advertises offline_access', () => {
    const document = protectedResourceMetadata({ ...settings, scopes: [SCOPE, 'offline_access', `api://${CLIENT}/offline_access`] });
    assert.deepEqual(document.scopes_supported, [SCOPE]);
  });

  it('is served at the path-suffixed and root well-known paths, derived from the resource path', () => {
    assert.deepEqual(protectedResourceMetadataPaths(settings), ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']);
    assert.equal(protectedResourceMetadataUrl(settings), PRM_URL);
    const nested = protectedResourceSettingsFrom(ENTRA, 'https://mcp.contoso.com/api/mcp');
    assert.deepEqual(protectedResourceMetadataPaths(nested), ['/.well-known/oauth-protected-resource/api/mcp', '/.well-known/oauth-protected-resource']);
    assert.equal(protectedResourceMetadataUrl(nested), 'https://mcp.contoso.com/.well-known/oauth-protected-resource/api/mcp');
  });

  it('answers as JSON, cacheable', async () => {
    const response = protectedResourceMetadataResponse(settings);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(response.headers.get('cache-control') ?? '', /max-age=/);
    assert.deepEqual(await response.json(), protectedResourceMetadata(settings));
  });
});

describe('WWW-Authenticate', () => {
  it('names the metadata and scope, then the error', () => {
    assert.equal(wwwAuthenticate({ resourceMetadataUrl: PRM_URL, scope: SCOPE }), `Bearer resource_metadata="${PRM_URL}", scope="${SCOPE}"`);
    assert.equal(
      wwwAuthenticate({ resourceMetadataUrl: PRM_URL, scope: SCOPE, error: 'invalid_token', errorDescription: 'The token has expired.' }),
      `Bearer resource_metadata="${PRM_URL}", scope="${SCOPE}", error="invalid_token", error_description="The token has expired."`,
    );
  });

  it('escapes quotes and backslashes, drops control characters, keeps error_description to RFC 6750 characters', () => {
    const header = wwwAuthenticate({
      resourceMetadataUrl: 'https://x/a"b\\c',
      scope: 'a "b"',
      error: 'invalid_token',
      errorDescription: 'bad "quote" \\ back\r\nInjected: yes — ü',
    });
    assert.equal(header, 'Bearer resource_metadata="https://x/a\\"b\\\\c", scope="a \\"b\\"", error="invalid_token", error_description="bad \'quote\' / backInjected: yes ? ?"');
    assert.doesNotThrow(() => new Headers({ 'www-authenticate': header }));
  });

  it('carries a claims challenge when given one', () => {
    assert.match(wwwAuthenticate({ resourceMetadataUrl: PRM_URL, error: 'insufficient_claims', errorDescription: 'MFA', claims: 'eyJhY2Nlc3NfdG9rZW4iOnt9fQ==' }), /, claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="$/);
  });
});

describe('authChallengeResponse', () => {
  const failure = (overrides: Partial<AuthFailure>): AuthFailure => ({ status: 401, error: 'invalid_token', reason: 'token_expired', description: 'The token has expired.', ...overrides });

  it('401 without a token: the challenge names no error', async () => {
    const response = authChallengeResponse(failure({ error: undefined, reason: 'no_token', description: 'A bearer token is required.' }), settings);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${PRM_URL}", scope="${SCOPE}"`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(await response.text(), 'A bearer token is required.\n');
  });

  it('401 invalid_token with its description', async () => {
    const response = authChallengeResponse(failure({}), settings);
    assert.equal(response.status, 401);
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer resource_metadata="${PRM_URL}", scope="${SCOPE}", error="invalid_token", error_description="The token has expired."`,
    );
  });

  it('403 insufficient_scope names the scope the call needs', async () => {
    const needed = `api://${CLIENT}/.default`;
    const response = authChallengeResponse(failure({ status: 403, error: 'insufficient_scope', reason: 'missing_role', description: 'needs a role', scope: needed }), settings);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${PRM_URL}", scope="${needed}", error="insufficient_scope", error_description="needs a role"`);
    assert.ok(!(await response.text()).includes('jsonrpc'));
  });

  it('503 when Entra is unreachable: retry later, no challenge', () => {
    const response = authChallengeResponse(failure({ status: 503, error: undefined, reason: 'metadata_unavailable', description: 'later' }), settings);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('www-authenticate'), null);
    assert.equal(response.headers.get('retry-after'), '30');
  });
});
