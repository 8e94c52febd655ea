import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { generate } from 'selfsigned';
import { createPrincipal, type Principal } from '../../src/auth/principal.ts';
import { createCredentialProvider, type CredentialProvider } from '../../src/azure/credential.ts';
import { onBehalfOfDownstream } from '../../src/azure/downstream-identity.ts';
import { ClaimsChallengeError, createOnBehalfOfCredentials, OnBehalfOfError, type OnBehalfOfClientAuth } from '../../src/azure/on-behalf-of.ts';
import { createSecretProvider, keyVaultSecretReader } from '../../src/azure/secrets.ts';
import { createLimiter } from '../../src/core/limiter.ts';
import { showDatabases } from '../../src/kusto/commands.ts';
import { kustoErrorResult } from '../../src/kusto/errors.ts';
import { createKustoServices } from '../../src/kusto/services.ts';
import { GRAPH_APP_ID, type ApiTokenOptions } from '../../emulator/entra-tenant.ts';
import { createKustoService, type KustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../../emulator/server.ts';

/**
 * The product's on-behalf-of credentials (src/azure/on-behalf-of.ts) through
 * the real OnBehalfOfCredential against the emulated Entra, managed identity
 * and Key Vault, and Kusto sessions of two users interleaving against the
 * emulated cluster.
 */
let emulator: Emulator;
let kusto: KustoService;
let managedIdentity: CredentialProvider;
const ALICE = '00000000-0000-4000-8000-0000000a11ce';
const BOB = '00000000-0000-4000-8000-0000000000b0';

before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  // msal-node fixes its managed identity source on first use: set the environment first.
  const env = emulator.env();
  for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_CLIENT_ID']) process.env[name] = env[name];
  for (const name of ['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE']) delete process.env[name];
  managedIdentity = createCredentialProvider({ managedIdentityClientId: emulator.identity.clientId, hasManagedIdentityEndpoint: true });
  emulator.entra.addUser({ oid: ALICE, upn: 'alice@emulator.localhost' });
  emulator.entra.addUser({ oid: BOB, upn: 'bob@emulator.localhost' });
});
beforeEach(() => {
  kusto.reset();
  kusto.clearRoles();
  emulator.clearRequests();
});
after(() => emulator.close());

/** A validated caller as the inbound check makes one: the token kept aside only for the exchange. */
async function caller(options: ApiTokenOptions = {}): Promise<{ principal: Principal; token: string }> {
  const token = await emulator.entra.mintApiToken(options);
  const claims = decodeJwt(token);
  return { token, principal: createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: String(claims.oid), tenantId: String(claims.tid), upn: String(claims.upn ?? '') }, token) };
}

const secrets = () => createSecretProvider({ read: keyVaultSecretReader(emulator.keyVault.vaultUrl, managedIdentity), ttlMs: 3_600_000 });

function credentials(clientAuth: OnBehalfOfClientAuth = { kind: 'managedIdentity' }, clientId = emulator.entra.api.clientId) {
  return createOnBehalfOfCredentials({ authorityHost: emulator.origin('login.localhost'), clientId, clientAuth, managedIdentity, secrets: secrets() });
}

const tokenRequests = () => emulator.requestsFor('entra').filter((r) => new URL(r.url).pathname.endsWith('/oauth2/v2.0/token'));

describe('secretless on-behalf-of through OnBehalfOfCredential', () => {
  it("exchanges the user's token, with the managed identity's token as client assertion, and caches the result", async () => {
    const obo = credentials();
    const { principal, token: inbound } = await caller();
    const credential = obo.forCaller(principal);
    const clusterUrl = emulator.origin('sandbox.kusto.localhost');
    const { token } = (await credential.getToken(`${clusterUrl}/.default`))!;
    const claims = decodeJwt(token);
    assert.deepEqual([claims.oid, claims.tid, claims.appid, claims.idtyp, claims.aud, claims.appidacr], [TEST_USER_ID, emulator.tenantId, emulator.entra.api.clientId, 'user', clusterUrl, '2']);
    assert.notEqual(token, inbound);
    const [request] = tokenRequests();
    const form = new URLSearchParams(request?.body);
    assert.equal(form.get('assertion'), inbound, 'the inbound token is the assertion of the exchange');
    assert.equal(form.get('client_secret'), null, 'no secret');
    assert.equal(decodeJwt(form.get('client_assertion') ?? '').sub, emulator.identity.principalId);
    await credential.getToken(`${clusterUrl}/.default`);
    await obo.forCaller((await caller()).principal).getToken(`${clusterUrl}/.default`);
    assert.equal(tokenRequests().length, 1, 'the same user and scope come from the cache');
  });

  it('consent missing, user not assigned and a Conditional Access challenge are typed errors', async () => {
    const obo = credentials();
    const { principal } = await caller();
    await assert.rejects(obo.forCaller(principal).getToken('https://graph.microsoft.com/Mail.Read'), (error: unknown) => error instanceof OnBehalfOfError && error.code === 'consent_required' && error.aadsts === 'AADSTS65001');

    emulator.entra.registerResource({ appId: '00000000-0000-4000-8000-0000000d0002', displayName: 'Assigned API', identifiers: ['api://assigned'] });
    emulator.entra.grantConsent(emulator.entra.api.clientId, 'api://assigned', ['user_impersonation']);
    emulator.entra.requireAssignment('api://assigned', ['someone-else']);
    await assert.rejects(obo.forCaller(principal).getToken('api://assigned/.default'), (error: unknown) => error instanceof OnBehalfOfError && error.code === 'user_not_assigned');

    const claims = '{"access_token":{"capolids":{"essential":true,"values":["c0ffee00-0000-4000-8000-000000000001"]}}}';
    emulator.entra.requireClaimsChallenge({ resource: GRAPH_APP_ID, claims });
    try {
      const challenge = await obo.forCaller(principal).getToken('https://graph.microsoft.com/User.Read').catch((error: unknown) => error);
      assert.ok(challenge instanceof ClaimsChallengeError, String(challenge));
      assert.equal(challenge.claims, claims, 'the claims Entra sent, for the 401 challenge');
      assert.equal(Buffer.from(challenge.encodedClaims, 'base64').toString(), claims);
      // As a Kusto tool would meet it: thrown on for the HTTP layer, not turned into a result.
      assert.throws(() => kustoErrorResult({ name: 'KustoAuthenticationError', inner: challenge }, { target: 'kusto:x', database: 'd' }), ClaimsChallengeError);
    } finally {
      emulator.entra.clearClaimsChallenges();
    }
  });

  it('an app registration that does not trust the managed identity: the operator is told what to fix', async () => {
    const app = emulator.entra.registerApp({ displayName: 'no-federated-credential' });
    emulator.entra.grantConsent(app.clientId, 'https://kusto.localhost', ['user_impersonation']);
    const { principal } = await caller({ aud: app.clientId });
    await assert.rejects(credentials({ kind: 'managedIdentity' }, app.clientId).forCaller(principal).getToken('https://kusto.localhost/.default'), (error: unknown) =>
      error instanceof OnBehalfOfError && error.code === 'client_authentication_failed' && error.aadsts === 'AADSTS70021' && /federated credential/.test(error.nextStep));
  });
});

describe('fallbacks read from Key Vault at run time', () => {
  it('client secret: a rotated secret is read again once after AADSTS7000215', async () => {
    const app = emulator.entra.registerApp({ displayName: 'secret-fallback', secrets: ['second-secret'] });
    emulator.entra.grantConsent(app.clientId, 'https://kusto.localhost', ['user_impersonation']);
    emulator.keyVault.setSecret('obo-client-secret', 'first-secret');
    const provider = secrets();
    const obo = createOnBehalfOfCredentials({ authorityHost: emulator.origin('login.localhost'), clientId: app.clientId, clientAuth: { kind: 'secret', secretName: 'obo-client-secret' }, managedIdentity, secrets: provider });
    assert.equal(await provider.get('obo-client-secret'), 'first-secret'); // cached, then rotated in the vault
    emulator.keyVault.setSecret('obo-client-secret', 'second-secret');
    const { token } = (await obo.forCaller((await caller({ aud: app.clientId })).principal).getToken('https://kusto.localhost/.default'))!;
    assert.equal(decodeJwt(token).appidacr, '1');
    assert.deepEqual(tokenRequests().map((r) => new URLSearchParams(r.body).get('client_secret')), ['first-secret', 'second-secret']);
    const reads = emulator.requestsFor('keyvault').filter((r) => r.url.includes('/secrets/obo-client-secret') && r.status === 200);
    assert.equal(reads.length, 2, 'one read, one re-read');
  });

  it('client certificate: the PEM from Key Vault signs the assertion in memory', async () => {
    const app = emulator.entra.registerApp({ displayName: 'certificate-fallback' });
    emulator.entra.grantConsent(app.clientId, 'https://kusto.localhost', ['user_impersonation']);
    const pems = await generate([{ name: 'commonName', value: 'obo-fallback' }], { keySize: 2048, algorithm: 'sha256' });
    emulator.entra.addCertificate(app.clientId, pems.cert);
    emulator.keyVault.setSecret('obo-certificate', `${pems.private}\n${pems.cert}\n`);
    const obo = credentials({ kind: 'certificate', secretName: 'obo-certificate' }, app.clientId);
    const { token } = (await obo.forCaller((await caller({ aud: app.clientId })).principal).getToken('https://kusto.localhost/.default'))!;
    assert.deepEqual([decodeJwt(token).appid, decodeJwt(token).appidacr], [app.clientId, '2']);
  });
});

describe('Kusto sessions of two users', () => {
  it("interleaved calls each go out with their own user's token; the schema cache never crosses users", async () => {
    kusto.grantViewer('Samples', ALICE);
    kusto.grantViewer('Metrics', BOB);
    const cluster = { name: 'sandbox', url: emulator.origin('sandbox.kusto.localhost') };
    let n = 0;
    const services = createKustoServices(
      { clusters: [cluster], defaultCluster: 'sandbox', maxRows: 100, maxResultBytes: 65_536, defaultTimeoutSeconds: 30, maxTimeoutSeconds: 60, schemaCacheTtlMs: 600_000 },
      managedIdentity,
      'obo-test',
      createLimiter({ concurrency: 8, queue: 16, maxWaitMs: 5000 }),
      { identities: onBehalfOfDownstream(credentials()) },
    );
    const alice = await caller({ oid: ALICE });
    const bob = await caller({ oid: BOB });
    kusto.setQueryDelay(40, 8);
    const run = (who: { principal: Principal }, database: string, id: string) =>
      services.session(who.principal).query({ cluster, database, text: 'print 1', clientRequestId: `obo-test.${id}`, timeoutMs: 10_000 });
    const outcomes = await Promise.allSettled([run(alice, 'Samples', 'a1'), run(bob, 'Metrics', 'b1'), run(alice, 'Samples', 'a2'), run(bob, 'Metrics', 'b2'), run(alice, 'Metrics', 'a3'), run(bob, 'Samples', 'b3')]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'], 'each user reads only their own database');
    for (const query of kusto.queries) {
      const expected = query.clientRequestId.includes('.a') ? ALICE : BOB;
      assert.equal(query.identity?.oid, expected, query.clientRequestId);
      assert.equal(query.identity?.appid, emulator.entra.api.clientId, 'obtained through the exchange by the API app');
      assert.equal(query.identity?.idtyp, 'user');
    }
    // What reached Kusto was never the inbound token.
    const sent = emulator.requestsFor('kusto').map((r) => r.headers.authorization ?? '');
    assert.ok(sent.length >= 6 && sent.every((header) => header !== `Bearer ${alice.token}` && header !== `Bearer ${bob.token}`));

    const [aliceDatabases] = await services.session(alice.principal).command({ cluster, database: '', command: showDatabases(), clientRequestId: 'obo-test.dbs-a' });
    const [bobDatabases] = await services.session(bob.principal).command({ cluster, database: '', command: showDatabases(), clientRequestId: 'obo-test.dbs-b' });
    assert.deepEqual(aliceDatabases?.rows.map((row) => row[0]), ['Samples']);
    assert.deepEqual(bobDatabases?.rows.map((row) => row[0]), ['Metrics']);

    // Alice's cached schema of Samples is hers: Bob asking for it goes to Kusto as Bob, and is refused.
    const schema = await services.session(alice.principal).schema(cluster, 'Samples');
    assert.ok(schema.tables.has('StormEvents'));
    await assert.rejects(services.session(bob.principal).schema(cluster, 'Samples'), (error: unknown) => (error as { status?: number }).status === 403);
    const schemaCommands = kusto.commands.filter((c) => /^\.show database \[/.test(c.csl));
    assert.deepEqual(schemaCommands.map((c) => [c.identity?.oid, c.status]), [[ALICE, 200], [BOB, 403]]);
  });
});
