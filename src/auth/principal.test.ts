import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { format, inspect } from 'node:util';
import { anonymousPrincipal, createPrincipal, onBehalfOfAssertion, principalFromClaims, tokenIdentityType } from './principal.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzZWNyZXQiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ';

describe('Principal', () => {
  const principal = createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: 'oid-1', scopes: ['user_impersonation'] }, TOKEN);

  it('never prints or serializes the token it keeps', () => {
    const renderings = [
      JSON.stringify(principal),
      inspect(principal),
      inspect(principal, { showHidden: true, depth: Infinity, getters: true }),
      format('%o %O %j', principal, principal, principal),
      String(Object.getOwnPropertyNames(principal)),
      String(Reflect.ownKeys(principal).map(String)),
    ];
    for (const text of renderings) {
      assert.ok(!text.includes(TOKEN), text);
      assert.ok(!text.includes('canary'), text);
    }
    assert.ok(JSON.stringify(principal).includes('oid-1'), 'the rest is printed');
  });

  it('gives the token only to onBehalfOfAssertion, and copies do not carry it', () => {
    assert.equal(onBehalfOfAssertion(principal), TOKEN);
    assert.equal(onBehalfOfAssertion({ ...principal }), undefined);
    assert.equal(onBehalfOfAssertion(structuredClone(principal)), undefined);
    assert.equal(onBehalfOfAssertion(createPrincipal({ authMode: 'entra' })), undefined);
  });

  it('is frozen, lists included', () => {
    assert.ok(Object.isFrozen(principal));
    assert.ok(Object.isFrozen(principal.scopes));
    assert.throws(() => {
      (principal as { objectId?: string }).objectId = 'someone-else';
    }, TypeError);
    assert.throws(() => (principal.scopes as string[]).push('admin'), TypeError);
  });

  it('represents key and no-auth callers as nobody in particular', () => {
    const anonymous = anonymousPrincipal('functionKey');
    assert.equal(anonymous.authMode, 'functionKey');
    assert.equal(anonymous.idtyp, undefined);
    assert.equal(anonymous.objectId, undefined);
    assert.deepEqual([anonymous.roles, anonymous.scopes, anonymous.groups], [[], [], []]);
  });
});

describe('principalFromClaims', () => {
  it('reads a v2 user token', () => {
    const p = principalFromClaims(
      { oid: 'u1', sub: 'pairwise', tid: 't1', azp: 'client', name: 'Ada', preferred_username: 'ada@contoso.com', scp: 'user_impersonation  Files.Read', roles: ['kusto.read', 7], groups: ['g1'], ver: '2.0', exp: 2_000_000_000 },
      'entra',
    );
    assert.deepEqual(
      { ...p },
      {
        authMode: 'entra',
        idtyp: 'user',
        objectId: 'u1',
        tenantId: 't1',
        appId: 'client',
        name: 'Ada',
        upn: 'ada@contoso.com',
        roles: ['kusto.read'],
        scopes: ['user_impersonation', 'Files.Read'],
        groups: ['g1'],
        tokenVersion: '2.0',
        expiresAt: 2_000_000_000_000,
      },
    );
  });

  it('reads a v1 token: appid and upn', () => {
    const p = principalFromClaims({ oid: 'u1', sub: 's', tid: 't1', appid: 'client-v1', upn: 'ada@contoso.com', scp: 'x', ver: '1.0' }, 'entra');
    assert.equal(p.appId, 'client-v1');
    assert.equal(p.upn, 'ada@contoso.com');
  });
});

describe('tokenIdentityType', () => {
  it('follows idtyp when present', () => {
    assert.equal(tokenIdentityType({ idtyp: 'app', scp: 'x' }), 'app');
    assert.equal(tokenIdentityType({ idtyp: 'user', oid: 'a', sub: 'a' }), 'user');
  });

  it('without idtyp: app only when there is no scp and sub equals oid', () => {
    assert.equal(tokenIdentityType({ oid: 'sp', sub: 'sp', roles: ['r'] }), 'app');
    assert.equal(tokenIdentityType({ oid: 'sp', sub: 'sp', scp: 'user_impersonation' }), 'user');
    // A user's ID token: no scp, but a pairwise sub. Never an app.
    assert.equal(tokenIdentityType({ oid: 'user', sub: 'pairwise', roles: ['r'] }), 'user');
    assert.equal(tokenIdentityType({ roles: ['r'] }), 'user');
  });
});
