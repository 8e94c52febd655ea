/**
 * The emulated cluster answers by the calling identity, as the service does:
 * database Viewer roles per principal (a user by object id or UPN, an app by
 * client id), `.show databases` lists only what the caller may read, schema
 * commands and queries on another database are Kusto's 403, and every request
 * records who called (oid, tid, idtyp, appid, scp).
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { EmulatorContext, TokenClaims } from '../types.ts';
import { createKustoService, PUBLIC_KUSTO_RESOURCE_ID, type KustoService } from './service.ts';

const TENANT = '00000000-0000-4000-8000-00000000aaaa';
const API_APP = '00000000-0000-4000-8000-0000000000a1';
const ALICE = '00000000-0000-4000-8000-0000000a11ce';
const BOB = '00000000-0000-4000-8000-0000000000b0';
const MI_APP = '00000000-0000-4000-8000-0000000000c1';

/** On-behalf-of tokens as Entra issues them for Kusto: the user's oid, the API's appid. */
const user = (oid: string, upn: string): TokenClaims => ({ aud: PUBLIC_KUSTO_RESOURCE_ID, iss: `https://sts.windows.net/${TENANT}/`, sub: `sub-${oid}`, oid, tid: TENANT, appid: API_APP, idtyp: 'user', scp: 'user_impersonation', upn });
const TOKENS: Record<string, TokenClaims> = {
  alice: user(ALICE, 'alice@contoso.test'),
  bob: user(BOB, 'bob@contoso.test'),
  mi: { aud: PUBLIC_KUSTO_RESOURCE_ID, iss: `https://sts.windows.net/${TENANT}/`, sub: 'mi-oid', oid: 'mi-oid', tid: TENANT, appid: MI_APP, idtyp: 'app' },
};

const context: EmulatorContext = {
  origin: (host) => `https://${host}:4443`,
  verifyBearer: async (req) => TOKENS[(req.headers.get('authorization') ?? '').replace(/^Bearer /, '')] ?? null,
};

let kusto: KustoService;
beforeEach(() => {
  kusto = createKustoService();
});

async function call(who: string, path: '/v2/rest/query' | '/v1/rest/mgmt', db: string, csl: string): Promise<{ status: number; body: any }> {
  const response = await kusto.handle(
    new Request(`https://samples.kusto.localhost${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ db, csl }),
    }),
    context,
  );
  return { status: response.status, body: JSON.parse(await response.text()) };
}
const mgmt = (who: string, db: string, csl: string) => call(who, '/v1/rest/mgmt', db, csl);
const query = (who: string, db: string, csl: string) => call(who, '/v2/rest/query', db, csl);
const databases = async (who: string) => {
  const { status, body } = await mgmt(who, '', '.show databases');
  assert.equal(status, 200, JSON.stringify(body));
  return (body.Tables[0].Rows as unknown[][]).map((row) => row[0]);
};

describe('per-principal database roles', () => {
  it('with no roles granted the cluster is open: every valid token reads every database (the default)', async () => {
    assert.deepEqual(await databases('mi'), ['Samples', 'AppTelemetry', 'Metrics']);
    assert.deepEqual(await databases('alice'), ['Samples', 'AppTelemetry', 'Metrics']);
    assert.equal((await query('alice', 'Metrics', 'Perf | count')).status, 200);
  });

  it('Viewer roles decide what .show databases lists and which databases answer', async () => {
    kusto.grantViewer('Samples', ALICE);
    kusto.grantViewer('AppTelemetry', 'bob@contoso.test');
    kusto.grantViewer('Metrics', `aaduser=${BOB};${TENANT}`);
    assert.deepEqual(await databases('alice'), ['Samples']);
    assert.deepEqual(await databases('bob'), ['AppTelemetry', 'Metrics']);

    assert.equal((await query('alice', 'Samples', 'StormEvents | count')).status, 200);
    const refused = await query('alice', 'AppTelemetry', 'Requests | count');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'Forbidden');
    assert.equal(refused.body.error.message, 'Caller is not authorized to perform this action');
    assert.equal(refused.body.error['@type'], 'Kusto.DataNode.Exceptions.UnauthorizedDatabaseAccessException');
    assert.equal(refused.body.error['@message'], `Principal 'aaduser=${ALICE};${TENANT}' is not authorized to read database 'AppTelemetry'.`);
    assert.equal(refused.body.error['@permanent'], true);
    // Across databases too: database("X") needs a role on X.
    assert.equal((await query('alice', 'Samples', 'database("Metrics").Perf | count')).status, 403);
    assert.equal(kusto.queries.at(-1)?.outcome, 'refused');
  });

  it('schema commands answer only for databases the caller may read', async () => {
    kusto.grantViewer('Samples', ALICE);
    kusto.grantViewer('AppTelemetry', BOB);
    const schema = await mgmt('alice', 'Samples', `.show database ['Samples'] schema as json`);
    assert.equal(schema.status, 200);
    assert.ok(Object.keys(JSON.parse(schema.body.Tables[0].Rows[0][0]).Databases.Samples.Tables).includes('StormEvents'));
    assert.equal((await mgmt('alice', 'AppTelemetry', `.show database ['AppTelemetry'] schema as json`)).status, 403);
    assert.equal((await mgmt('alice', 'AppTelemetry', '.show tables details')).status, 403);
    assert.equal((await mgmt('bob', '', '.show databases (Samples, AppTelemetry) schema as json')).status, 403);
    assert.equal((await mgmt('bob', 'AppTelemetry', '.show tables')).status, 200);
  });

  it("a user's delegated token is the user, not the app it was issued to", async () => {
    kusto.grantViewer('*', API_APP); // the middle-tier app as AllDatabasesViewer does not make its users viewers
    kusto.grantViewer('Samples', ALICE);
    assert.deepEqual(await databases('alice'), ['Samples']);
    const bob = await mgmt('bob', '', '.show databases');
    assert.equal(bob.status, 403, 'bob holds no role at all');
    assert.equal(bob.body.error['@message'], `Principal 'aaduser=${BOB};${TENANT}' is not authorized to perform operation 'Access the Kusto service' on 'https://samples.kusto.localhost:443/'.`);
  });

  it('an app is matched by its client id; * is every database; revoke and options work; reset keeps the configured roles', async () => {
    kusto = createKustoService({ viewers: [{ database: '*', principal: MI_APP }] });
    assert.deepEqual(await databases('mi'), ['Samples', 'AppTelemetry', 'Metrics']);
    assert.equal((await mgmt('alice', '', '.show databases')).status, 403);
    kusto.grantViewer('Metrics', ALICE);
    assert.deepEqual(await databases('alice'), ['Metrics']);
    kusto.revokeViewer('Metrics', ALICE);
    assert.equal((await mgmt('alice', '', '.show databases')).status, 403);
    kusto.grantViewer('Metrics', ALICE);
    kusto.reset();
    assert.equal((await mgmt('alice', '', '.show databases')).status, 403, 'reset drops roles granted since');
    assert.deepEqual(await databases('mi'), ['Samples', 'AppTelemetry', 'Metrics'], 'and keeps the configured ones');
    kusto.clearRoles();
    assert.deepEqual(await databases('alice'), ['Samples', 'AppTelemetry', 'Metrics'], 'no roles: open again');
  });

  it('.show queries lists only the caller\'s own queries once roles are on', async () => {
    kusto.grantViewer('*', ALICE);
    kusto.grantViewer('*', BOB);
    await query('alice', 'Samples', 'StormEvents | take 1');
    await query('bob', 'Samples', 'StormEvents | take 2');
    const { body } = await mgmt('bob', 'Samples', '.show queries');
    assert.deepEqual((body.Tables[0].Rows as unknown[][]).map((row) => row[1]), ['StormEvents | take 2']);
  });
});

describe('who called', () => {
  it('records the identity of every request from its token: oid, tid, idtyp, appid, scp, upn, aud', async () => {
    await query('alice', 'Samples', 'print 1');
    await mgmt('mi', '', '.show databases');
    assert.deepEqual(kusto.queries[0]?.identity, { oid: ALICE, tid: TENANT, idtyp: 'user', appid: API_APP, scp: 'user_impersonation', upn: 'alice@contoso.test', aud: PUBLIC_KUSTO_RESOURCE_ID });
    assert.equal(kusto.queries[0]?.principal, `aaduser=${ALICE};${TENANT}`);
    assert.deepEqual(kusto.commands[0]?.identity, { oid: 'mi-oid', tid: TENANT, idtyp: 'app', appid: MI_APP, aud: PUBLIC_KUSTO_RESOURCE_ID });
    assert.equal(kusto.commands[0]?.principal, `aadapp=${MI_APP};${TENANT}`);
  });
});
