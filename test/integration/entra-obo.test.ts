import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManagedIdentityCredential, OnBehalfOfCredential, type OnBehalfOfCredentialSecretOptions } from '@azure/identity';
import { decodeJwt } from 'jose';
import { generate } from 'selfsigned';
import { TOKEN_EXCHANGE_AUDIENCE } from '../../emulator/entra.ts';
import { GRAPH_APP_ID, type ApiTokenOptions } from '../../emulator/entra-tenant.ts';
import { createKustoService, type KustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../../emulator/server.ts';

/**
 * Secretless on-behalf-of, as the Functions app will do it: @azure/identity's
 * OnBehalfOfCredential whose client assertion (`getAssertion`) is a managed
 * identity token for `api://AzureADTokenExchange` from ManagedIdentityCredential,
 * against the emulated Entra and managed identity endpoint.
 */
let emulator: Emulator;
let kusto: KustoService;
let managedIdentity: ManagedIdentityCredential;
let certificateDir: string;

before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  // msal-node fixes its managed identity source on first use: set the environment first.
  const env = emulator.env();
  for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_CLIENT_ID']) process.env[name] = env[name];
  // Nothing secret anywhere: the exchange must work without these.
  for (const name of ['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE']) delete process.env[name];
  managedIdentity = new ManagedIdentityCredential(emulator.identity.clientId);
  certificateDir = await mkdtemp(join(tmpdir(), 'obo-cert-'));
});
after(async () => {
  await emulator.close();
  await rm(certificateDir, { recursive: true, force: true });
});

const userToken = (options: ApiTokenOptions = {}) => emulator.entra.mintApiToken(options);

/** The credential exactly as the product will build it: no secret, the managed identity as client assertion. */
function secretlessObo(userAssertionToken: string, clientId = emulator.entra.api.clientId): OnBehalfOfCredential {
  return new OnBehalfOfCredential({
    tenantId: emulator.tenantId,
    clientId,
    userAssertionToken,
    getAssertion: async () => (await managedIdentity.getToken(`${TOKEN_EXCHANGE_AUDIENCE}/.default`)).token,
    ...emulatedAuthority(),
  });
}

/**
 * The emulator as authority. `disableInstanceDiscovery` (honoured by the
 * credential, though its constructor types omit it): otherwise msal-node asks
 * login.microsoftonline.com about the unknown authority host.
 */
function emulatedAuthority(): { authorityHost: string } {
  return { authorityHost: emulator.origin('login.localhost'), disableInstanceDiscovery: true } as { authorityHost: string };
}

function withCredential(options: Record<string, unknown>): OnBehalfOfCredential {
  return new OnBehalfOfCredential({ tenantId: emulator.tenantId, ...emulatedAuthority(), ...options } as unknown as OnBehalfOfCredentialSecretOptions);
}

async function rejectsWith(promise: Promise<unknown>, code: RegExp): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  const error = caught as Error;
  assert.match(error.message, code);
  return error;
}

const tokenRequests = () => emulator.requestsFor('entra').filter((r) => new URL(r.url).pathname.endsWith('/oauth2/v2.0/token'));

describe('on-behalf-of with no secret (OnBehalfOfCredential + managed identity assertion)', () => {
  it('gets a Kusto token for the user, and Kusto sees the user', async () => {
    emulator.clearRequests();
    const assertion = await userToken();
    const clusterUrl = emulator.origin('sandbox.kusto.localhost');
    const { token } = await secretlessObo(assertion).getToken(`${clusterUrl}/.default`);

    const claims = decodeJwt(token);
    assert.equal(claims.aud, clusterUrl);
    assert.equal(claims.iss, `https://sts.windows.net/${emulator.tenantId}/`);
    assert.equal(claims.oid, TEST_USER_ID);
    assert.equal(claims.tid, emulator.tenantId);
    assert.equal(claims.upn, 'test.user@emulator.localhost');
    assert.equal(claims.scp, 'user_impersonation');
    assert.equal(claims.idtyp, 'user');
    assert.equal(claims.appid, emulator.entra.api.clientId);
    assert.equal(claims.appidacr, '2', 'a client assertion, not a secret');

    // On the wire: the OBO grant with the user's token as assertion and the managed identity's token as client assertion.
    const [request] = tokenRequests();
    assert.ok(request);
    const form = new URLSearchParams(request.body);
    assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    assert.equal(form.get('requested_token_use'), 'on_behalf_of');
    assert.equal(form.get('assertion'), assertion);
    assert.equal(form.get('client_secret'), null);
    assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const clientAssertion = decodeJwt(form.get('client_assertion') ?? '');
    assert.equal(clientAssertion.aud, TOKEN_EXCHANGE_AUDIENCE);
    assert.equal(clientAssertion.iss, emulator.entra.issuerV2());
    assert.equal(clientAssertion.sub, emulator.identity.principalId);
    assert.ok(emulator.requestsFor('identity').some((r) => new URL(r.url).searchParams.get('resource') === TOKEN_EXCHANGE_AUDIENCE));

    const response = await fetch(`${clusterUrl}/v2/rest/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ db: 'Samples', csl: 'StormEvents | take 1' }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(kusto.queries.at(-1)?.principal, `aaduser=${TEST_USER_ID};${emulator.tenantId}`);
  });

  it('gets a Graph token with the requested delegated permission', async () => {
    const { token } = await secretlessObo(await userToken()).getToken('https://graph.microsoft.com/User.Read');
    const claims = decodeJwt(token);
    assert.equal(claims.aud, 'https://graph.microsoft.com');
    assert.equal(claims.scp, 'User.Read');
    assert.equal(claims.oid, TEST_USER_ID);
  });

  it('refuses a bad user assertion with AADSTS50013 / AADSTS500133', async () => {
    await rejectsWith(secretlessObo(await userToken({ aud: 'https://graph.microsoft.com' })).getToken('https://kusto.localhost/.default'), /AADSTS50013/);
    await rejectsWith(secretlessObo(await userToken({ unpublishedKey: true })).getToken('https://kusto.localhost/.default'), /AADSTS50013/);
    await rejectsWith(secretlessObo(await userToken({ exp: Math.floor(Date.now() / 1000) - 3600 })).getToken('https://kusto.localhost/.default'), /AADSTS500133/);
    await rejectsWith(secretlessObo(await userToken({ kind: 'app', roles: ['mcp.invoke'] })).getToken('https://kusto.localhost/.default'), /AADSTS50013/);
  });

  it('refuses an app whose federated credentials do not match the managed identity (AADSTS70021, AADSTS700213)', async () => {
    const noCredentials = emulator.entra.registerApp({ displayName: 'no-fic' });
    emulator.entra.grantConsent(noCredentials.clientId, 'https://kusto.localhost', ['user_impersonation']);
    await rejectsWith(secretlessObo(await userToken({ aud: noCredentials.clientId }), noCredentials.clientId).getToken('https://kusto.localhost/.default'), /AADSTS70021/);

    const otherSubject = emulator.entra.registerApp({
      displayName: 'other-subject',
      federatedCredentials: [{ name: 'someone', issuer: emulator.entra.issuerV2(), subject: '00000000-0000-4000-8000-0000000000ff', audiences: [TOKEN_EXCHANGE_AUDIENCE] }],
    });
    emulator.entra.grantConsent(otherSubject.clientId, 'https://kusto.localhost', ['user_impersonation']);
    await rejectsWith(secretlessObo(await userToken({ aud: otherSubject.clientId }), otherSubject.clientId).getToken('https://kusto.localhost/.default'), /AADSTS700213/);
  });

  it('consent missing: AADSTS65001', async () => {
    const error = await rejectsWith(secretlessObo(await userToken()).getToken('https://graph.microsoft.com/Mail.Read'), /AADSTS65001/);
    assert.ok(!error.message.includes('eyJ'), 'no token in the error');
  });

  it('user not assigned to the downstream app: AADSTS50105', async () => {
    const downstream = emulator.entra.registerResource({ appId: '00000000-0000-4000-8000-0000000d0001', displayName: 'Downstream API', identifiers: ['api://downstream'] });
    emulator.entra.grantConsent(emulator.entra.api.clientId, 'api://downstream', ['user_impersonation']);
    emulator.entra.requireAssignment('api://downstream', ['someone-else']);
    await rejectsWith(secretlessObo(await userToken()).getToken('api://downstream/.default'), /AADSTS50105/);
    downstream.assignedUsers.add(TEST_USER_ID);
    const { token } = await secretlessObo(await userToken()).getToken('api://downstream/.default');
    assert.equal(decodeJwt(token).aud, 'api://downstream');
  });

  it('a Conditional Access claims challenge: interaction_required with the claims, until the user has done MFA', async () => {
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["c0ffee00-0000-4000-8000-000000000001"]}}}';
    emulator.entra.requireClaimsChallenge({ resource: GRAPH_APP_ID, claims });
    try {
      emulator.clearRequests();
      await rejectsWith(secretlessObo(await userToken()).getToken('https://graph.microsoft.com/User.Read'), /AADSTS50079/);
      const body = JSON.parse(tokenRequests().at(-1)?.responseBody ?? '{}') as Record<string, unknown>;
      assert.equal(body.error, 'interaction_required');
      assert.equal(body.suberror, 'basic_action');
      assert.equal(body.claims, claims);
      // Kusto is not under the policy; Graph is, until the user's token shows MFA.
      await secretlessObo(await userToken()).getToken('https://kusto.localhost/.default');
      await secretlessObo(await userToken({ claims: { amr: ['pwd', 'mfa'] } })).getToken('https://graph.microsoft.com/User.Read');
    } finally {
      emulator.entra.clearClaimsChallenges();
    }
  });
});

describe('on-behalf-of fallbacks (secrets from Key Vault in the product)', () => {
  it('client secret: accepted when registered, AADSTS7000215 otherwise', async () => {
    const app = emulator.entra.registerApp({ displayName: 'with-secret', secrets: ['s3cret-value'] });
    emulator.entra.grantConsent(app.clientId, 'https://kusto.localhost', ['user_impersonation']);
    const assertion = await userToken({ aud: app.clientId });
    const { token } = await withCredential({ clientId: app.clientId, clientSecret: 's3cret-value', userAssertionToken: assertion }).getToken('https://kusto.localhost/.default');
    assert.equal(decodeJwt(token).appidacr, '1');
    await rejectsWith(withCredential({ clientId: app.clientId, clientSecret: 'wrong', userAssertionToken: await userToken({ aud: app.clientId }) }).getToken('https://kusto.localhost/.default'), /AADSTS7000215/);
  });

  it('client certificate: accepted when registered, AADSTS700027 for another certificate', async () => {
    const app = emulator.entra.registerApp({ displayName: 'with-certificate' });
    emulator.entra.grantConsent(app.clientId, 'https://kusto.localhost', ['user_impersonation']);
    const writeCertificate = async (name: string) => {
      const pems = await generate([{ name: 'commonName', value: name }], { keySize: 2048, algorithm: 'sha256' });
      const path = join(certificateDir, `${name}.pem`);
      await writeFile(path, `${pems.private}\n${pems.cert}\n`);
      return { path, cert: pems.cert };
    };
    const registered = await writeCertificate('registered');
    const unregistered = await writeCertificate('unregistered');
    emulator.entra.addCertificate(app.clientId, registered.cert);

    const { token } = await withCredential({ clientId: app.clientId, certificatePath: registered.path, userAssertionToken: await userToken({ aud: app.clientId }) }).getToken('https://kusto.localhost/.default');
    assert.equal(decodeJwt(token).appid, app.clientId);
    assert.equal(decodeJwt(token).appidacr, '2');
    await rejectsWith(withCredential({ clientId: app.clientId, certificatePath: unregistered.path, userAssertionToken: await userToken({ aud: app.clientId }) }).getToken('https://kusto.localhost/.default'), /AADSTS700027/);
  });
});
