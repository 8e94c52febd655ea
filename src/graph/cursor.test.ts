import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCursorCodec, CursorRefusedError, type CursorRefusal, type CursorScope } from './cursor.ts';
import { cursorKey, ephemeralCursorKeys, type CursorKeys } from './cursor-keys.ts';
import { graphEndpoint } from './endpoint.ts';

const endpoint = graphEndpoint('https://graph.microsoft.com');
const keyA = cursorKey('a'.repeat(32) + '-key-material-A');
const keyB = cursorKey('b'.repeat(32) + '-key-material-B');
const ada = { tenantId: 'tenant-1', objectId: 'oid-ada', appId: 'client-1' };
const bob = { tenantId: 'tenant-1', objectId: 'oid-bob', appId: 'client-1' };
const scope: CursorScope = { caller: ada, tool: 'graph_channel_messages_list', resource: '/teams/t1/channels/c1/messages' };
const link = 'https://graph.microsoft.com/v1.0/teams/t1/channels/c1/messages?$top=50&$skiptoken=MSwwLDE3MDAwMDAwMDAwMDA';

function codec(keys: CursorKeys = { current: keyA }, now = () => 1_700_000_000_000) {
  return createCursorCodec({ keys: async () => keys, endpoint, ttlMs: 3_600_000, now });
}

const refused = (reason: CursorRefusal) => (error: unknown) => error instanceof CursorRefusedError && error.reason === reason;

test('a cursor round-trips to its link and skip for the same caller, tool and resource', async () => {
  const cursors = codec();
  const cursor = await cursors.encode(scope, { link, skip: 7 });
  assert.match(cursor, /^g1\.[\w-]{8}\.[\w-]+\.[\w-]{43}$/);
  assert.deepEqual(await cursors.decode(scope, cursor), { link, skip: 7 });
});

test('changing any single character of a cursor gets it refused', async () => {
  const cursors = codec();
  const cursor = await cursors.encode(scope, { link, skip: 0 });
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
  for (let index = 0; index < cursor.length; index++) {
    const original = cursor[index] as string;
    const replacement = alphabet[(alphabet.indexOf(original) + 1) % alphabet.length] as string;
    const tampered = cursor.slice(0, index) + replacement + cursor.slice(index + 1);
    await assert.rejects(cursors.decode(scope, tampered), CursorRefusedError, `position ${index}`);
  }
});

test('a payload re-signed without the key (e.g. another link spliced in) is refused as tampered', async () => {
  const cursors = codec();
  const [version, keyId, , signature] = (await cursors.encode(scope, { link, skip: 0 })).split('.');
  const forged = Buffer.from(JSON.stringify({ l: 'https://graph.microsoft.com/v1.0/users/oid-bob/messages', s: 0, t: scope.tool, r: scope.resource, c: 'tenant-1/oid-ada', e: 9e9 })).toString('base64url');
  await assert.rejects(cursors.decode(scope, `${version}.${keyId}.${forged}.${signature}`), refused('tampered'));
});

test("another caller's cursor, another tool's, another resource's are refused", async () => {
  const cursors = codec();
  const cursor = await cursors.encode(scope, { link, skip: 0 });
  await assert.rejects(cursors.decode({ ...scope, caller: bob }, cursor), refused('other_caller'));
  await assert.rejects(cursors.decode({ ...scope, caller: { ...ada, tenantId: 'tenant-2' } }, cursor), refused('other_caller'));
  await assert.rejects(cursors.decode({ ...scope, tool: 'graph_chat_messages_list' }, cursor), refused('other_tool'));
  await assert.rejects(cursors.decode({ ...scope, resource: '/teams/t1/channels/c2/messages' }, cursor), refused('other_resource'));
});

test('an expired cursor is refused', async () => {
  let now = 1_700_000_000_000;
  const cursors = codec({ current: keyA }, () => now);
  const cursor = await cursors.encode(scope, { link, skip: 0 });
  now += 3_599_000;
  assert.ok(await cursors.decode(scope, cursor));
  now += 1_000;
  await assert.rejects(cursors.decode(scope, cursor), refused('expired'));
});

test('key rotation: signed with the current key, the previous one still accepted, a retired one refused', async () => {
  const before = await codec({ current: keyA }).encode(scope, { link, skip: 1 });
  const rotated = codec({ current: keyB, previous: keyA });
  assert.deepEqual(await rotated.decode(scope, before), { link, skip: 1 });
  const after = await rotated.encode(scope, { link, skip: 2 });
  assert.equal(after.split('.')[1], keyB.id);
  await assert.rejects(codec({ current: keyB }).decode(scope, before), refused('unknown_key'));
  // A cursor signed by another deployment's key, even with a forged key id, does not verify.
  const foreign = await codec({ current: cursorKey('z'.repeat(40)) }).encode(scope, { link, skip: 0 });
  const relabelled = foreign.split('.').map((part, index) => (index === 1 ? keyA.id : part)).join('.');
  await assert.rejects(codec().decode(scope, relabelled), refused('tampered'));
});

test('no link off the configured Graph host is signed, nor accepted after the endpoint changed', async () => {
  const cursors = codec();
  for (const bad of ['https://evil.example/v1.0/me/messages', 'https://graph.microsoft.com.evil.example/v1.0/x', 'http://graph.microsoft.com/v1.0/x', 'https://graph.microsoft.com/beta/x', 'https://user@graph.microsoft.com/v1.0/x']) {
    await assert.rejects(cursors.encode(scope, { link: bad, skip: 0 }), refused('foreign_origin'), bad);
  }
  const cursor = await cursors.encode(scope, { link, skip: 0 });
  const elsewhere = createCursorCodec({ keys: async () => ({ current: keyA }), endpoint: graphEndpoint('https://graph.microsoft.us'), ttlMs: 3_600_000, now: () => 1_700_000_000_000 });
  await assert.rejects(elsewhere.decode(scope, cursor), refused('foreign_origin'));
});

test('garbage is refused as malformed', async () => {
  const cursors = codec();
  for (const bad of ['', 'abc', 'g1.x.y', 'g2.a.b.c', `g1.${keyA.id}..sig`, 'x'.repeat(9000)]) {
    await assert.rejects(cursors.decode(scope, bad), CursorRefusedError, bad.slice(0, 20));
  }
});

test('keys: too short is refused; an ephemeral source signs and verifies its own cursors only', async () => {
  assert.throws(() => cursorKey('short'), /at least 32 bytes/);
  const mine = createCursorCodec({ keys: ephemeralCursorKeys(), endpoint, ttlMs: 60_000 });
  const theirs = createCursorCodec({ keys: ephemeralCursorKeys(), endpoint, ttlMs: 60_000 });
  const cursor = await mine.encode(scope, { link, skip: 0 });
  assert.equal((await mine.decode(scope, cursor)).link, link);
  await assert.rejects(theirs.decode(scope, cursor), refused('unknown_key'));
});
