import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCursorCodec } from '../../../graph/cursor.ts';
import { cursorKey, ephemeralCursorKeys, type CursorKeys } from '../../../graph/cursor-keys.ts';
import { graphEndpoint } from '../../../graph/endpoint.ts';
import { argumentsHash, canonicalJson, ConfirmationRefusedError, createConfirmationCodec } from './confirmation-token.ts';

const alice = { tenantId: 't1', objectId: 'alice', appId: undefined };
const args = { teamId: 'team', channelId: 'chan', content: 'Hello', format: 'text' };
const refused = (reason: string) => (error: unknown) => error instanceof ConfirmationRefusedError && error.reason === reason;

test('a token confirms exactly the call it was issued for', async () => {
  const codec = createConfirmationCodec({ keys: ephemeralCursorKeys() });
  const { token, expiresAt } = await codec.issue({ caller: alice, tool: 'graph_channel_message_send', args });
  assert.ok(Date.parse(expiresAt) > Date.now());
  await codec.verify({ caller: alice, tool: 'graph_channel_message_send', args: { format: 'text', content: 'Hello', channelId: 'chan', teamId: 'team' } }, token);
  await assert.rejects(codec.verify({ caller: alice, tool: 'graph_channel_message_send', args: { ...args, content: 'Hello!' } }, token), refused('other_arguments'));
  await assert.rejects(codec.verify({ caller: { tenantId: 't1', objectId: 'bob' }, tool: 'graph_channel_message_send', args }, token), refused('other_caller'));
  await assert.rejects(codec.verify({ caller: { tenantId: 't2', objectId: 'alice' }, tool: 'graph_channel_message_send', args }, token), refused('other_caller'));
  await assert.rejects(codec.verify({ caller: alice, tool: 'graph_chat_message_send', args }, token), refused('other_tool'));
  await assert.rejects(codec.verify({ caller: alice, tool: 'graph_channel_message_send', args }, token), refused('already_used'), 'one confirmation sends once');
});

test('altered, foreign and malformed tokens are refused', async () => {
  const codec = createConfirmationCodec({ keys: ephemeralCursorKeys() });
  const scope = { caller: alice, tool: 'graph_mail_send', args };
  const { token } = await codec.issue(scope);
  const [version, keyId, body, signature] = token.split('.') as [string, string, string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  const forgedBody = Buffer.from(JSON.stringify({ ...payload, e: Date.now() + 86_400_000 })).toString('base64url');
  await assert.rejects(codec.verify(scope, `${version}.${keyId}.${forgedBody}.${signature}`), refused('tampered'));
  await assert.rejects(codec.verify(scope, `${version}.${keyId}.${body}.${signature.slice(0, -2)}AA`), refused('tampered'));
  await assert.rejects(codec.verify(scope, `${version}.other.${body}.${signature}`), refused('unknown_key'));
  const otherInstance = createConfirmationCodec({ keys: ephemeralCursorKeys() });
  await assert.rejects(otherInstance.verify(scope, token), refused('unknown_key'));
  for (const bad of ['', 'w1.a.b', 'x1.a.b.c', 'w1.a.b.c.d', 'a'.repeat(2000)]) await assert.rejects(codec.verify(scope, bad), refused('malformed'));
});

test('tokens expire after their lifetime', async () => {
  let now = 1_000_000;
  const codec = createConfirmationCodec({ keys: ephemeralCursorKeys(), now: () => now });
  const scope = { caller: alice, tool: 'graph_team_create', args };
  const { token, expiresAt } = await codec.issue(scope);
  assert.equal(expiresAt, new Date(1_000_000 + 5 * 60_000).toISOString());
  now += 5 * 60_000 - 1;
  await codec.verify(scope, token);
  now += 1;
  await assert.rejects(codec.verify(scope, token), refused('expired'));
});

test('a rotated key keeps confirming tokens signed with the previous one', async () => {
  const old = cursorKey('o'.repeat(40));
  let keys: CursorKeys = { current: old };
  const codec = createConfirmationCodec({ keys: async () => keys });
  const scope = { caller: alice, tool: 'graph_mail_send', args };
  const { token } = await codec.issue(scope);
  keys = { current: cursorKey('n'.repeat(40)), previous: old };
  await codec.verify(scope, token);
  keys = { current: cursorKey('n'.repeat(40)) };
  await assert.rejects(codec.verify(scope, token), refused('unknown_key'));
});

test('the same key signs cursors and confirmations differently (domain separation)', async () => {
  const key = cursorKey('k'.repeat(40));
  const keys = async (): Promise<CursorKeys> => ({ current: key });
  const cursors = createCursorCodec({ keys, endpoint: graphEndpoint('https://graph.microsoft.com'), ttlMs: 60_000 });
  const confirmations = createConfirmationCodec({ keys });
  const cursor = await cursors.encode({ caller: alice, tool: 't', resource: '/r' }, { link: 'https://graph.microsoft.com/v1.0/r', skip: 0 });
  const cursorMac = cursor.split('.')[3]!;
  const { token } = await confirmations.issue({ caller: alice, tool: 't', args });
  const [, keyId, body] = token.split('.');
  // A cursor's MAC over a confirmation's body would be the raw key's; the derived key's differs.
  await assert.rejects(confirmations.verify({ caller: alice, tool: 't', args }, `w1.${keyId}.${body}.${cursorMac}`), refused('tampered'));
});

test('canonical JSON ignores key order and undefined members, keeps array order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } }), '{"a":{"d":[2,1]},"b":1}');
  assert.equal(argumentsHash({ a: 1, b: 2 }), argumentsHash({ b: 2, a: 1 }));
  assert.notEqual(argumentsHash({ to: ['a', 'b'] }), argumentsHash({ to: ['b', 'a'] }));
});
