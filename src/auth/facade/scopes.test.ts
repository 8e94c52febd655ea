import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qualifyScopes, resourceIsThisServer } from './scopes.ts';

const api = { identifierUri: 'api://00000000-0000-4000-8000-00000000a9a1', clientId: '00000000-0000-4000-8000-00000000a9a1', known: ['user_impersonation'] };
const qualified = `${api.identifierUri}/user_impersonation`;

test('bare, qualified, GUID-form and missing scopes all become the fully qualified API scope plus offline_access', () => {
  for (const requested of ['user_impersonation', qualified, `${api.clientId}/user_impersonation`, `openid profile ${qualified}`, null, '']) {
    assert.deepEqual(qualifyScopes(requested, api), { ok: true, scopes: [qualified, 'offline_access'] }, String(requested));
  }
});

test("another API's scopes are refused", () => {
  for (const requested of ['https://graph.microsoft.com/Mail.Read', 'api://other/user_impersonation', 'Mail.Read']) {
    assert.equal(qualifyScopes(requested, api).ok, false, requested);
  }
});

test('resource must name this server (a trailing slash tolerated), never another', () => {
  const mcp = 'https://app.example/mcp';
  assert.equal(resourceIsThisServer(null, mcp, api), true);
  assert.equal(resourceIsThisServer('https://app.example/mcp/', mcp, api), true);
  assert.equal(resourceIsThisServer(api.identifierUri, mcp, api), true);
  assert.equal(resourceIsThisServer('https://other.example/mcp', mcp, api), false);
  assert.equal(resourceIsThisServer('https://app.example/', mcp, api), false);
});
