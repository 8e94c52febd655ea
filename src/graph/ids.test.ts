import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelIdSchema, chatIdSchema, driveIdSchema, graphResource, mailFolderSchema, outlookIdSchema, teamIdSchema, teamsMessageIdSchema, upnSchema, userRefSchema } from './ids.ts';

const accepts = (schema: { safeParse(value: unknown): { success: boolean } }, values: string[]) => values.forEach((value) => assert.ok(schema.safeParse(value).success, `accepts ${value}`));
const refuses = (schema: { safeParse(value: unknown): { success: boolean } }, values: unknown[]) => values.forEach((value) => assert.ok(!schema.safeParse(value).success, `refuses ${String(value)}`));

test('team ids are GUIDs', () => {
  accepts(teamIdSchema, ['02bd9fd6-8f93-4758-87c3-1fb73740a315', ' 02BD9FD6-8F93-4758-87C3-1FB73740A315 ']);
  refuses(teamIdSchema, ['02bd9fd6-8f93-4758-87c3-1fb73740a31', '19:abc@thread.tacv2', "x' or 1 eq 1", '', 42]);
});

test('channel ids are 19:…@thread.tacv2 or @thread.skype', () => {
  accepts(channelIdSchema, ['19:561fbdbbfca848a484f0a6f00ce9dbbd@thread.tacv2', '19:09fc54a3141a45d0bc769cf506d2e079@thread.skype']);
  refuses(channelIdSchema, ['19:abc@thread.v2', '19:a/b@thread.tacv2', '19:abc@thread.tacv2/../../me', 'abc', '19:@thread.tacv2']);
});

test('chat ids cover group, meeting, one-to-one and notes chats', () => {
  accepts(chatIdSchema, [
    '19:2da4c29f6d7041eca70b638b43d45437@thread.v2',
    '19:meeting_MjdhNjM4YzUtYzExZi00OTFkLTkzZTAtNTVlNmZmMDhkNGU2@thread.v2',
    '19:8b081ef6-4792-4def-b2c9-c363a1bf41d5_5031bb31-22c0-4f6f-9f73-91d34ab2b32d@unq.gbl.spaces',
    '48:notes',
  ]);
  refuses(chatIdSchema, ['19:abc@evil.example', '19:abc@thread.v2?x=1', '48:other']);
});

test('message, Outlook and drive ids; mail folders by id or well-known name', () => {
  accepts(teamsMessageIdSchema, ['1616990032035']);
  refuses(teamsMessageIdSchema, ['1616990032035a', '../x', '']);
  accepts(outlookIdSchema, ['AAMkAGI2TG93AAA=', 'AQMkADAwATM0MDAAMS1i_NTcwLWI2NTEtMDACLTAwCgBGAAAD+/x=']);
  refuses(outlookIdSchema, ['AAMk?$select=body', 'a b', 'x'.repeat(1025)]);
  accepts(mailFolderSchema, ['inbox', 'sentitems', 'AAMkAGI2TG93AAA=']);
  accepts(driveIdSchema, ['b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdFlUCq1BlcjgmhRfAj3-Z8RY2VpuvV_tpd', 'contoso.sharepoint.com,da60e844-ba1d-49bc-b4d4-d5e36bae9019,712a596e-90a1-49e3-9b48-bfa80bee8740']);
  refuses(driveIdSchema, ['b!x/../../users', 'a?b']);
});

test('users are a GUID or a UPN, guests included', () => {
  accepts(upnSchema, ['ada@contoso.com', "o'brien@contoso.co.uk", 'jane_fabrikam.com#EXT#@contoso.onmicrosoft.com']);
  refuses(upnSchema, ['ada', 'ada@', '@contoso.com', 'ada@contoso', 'a b@contoso.com', 'ada@contoso.com/messages', 'ada@-contoso.com']);
  accepts(userRefSchema, ['02bd9fd6-8f93-4758-87c3-1fb73740a315', 'ada@contoso.com']);
  refuses(userRefSchema, ['me', '../users', 'ada@contoso.com?$top=1']);
});

test('resource paths encode each id as one segment and keep the template for audit', () => {
  const resource = graphResource('/teams/{teamId}/channels/{channelId}/messages', { teamId: '02bd9fd6-8f93-4758-87c3-1fb73740a315', channelId: '19:abc@thread.tacv2' });
  assert.equal(resource.path, '/teams/02bd9fd6-8f93-4758-87c3-1fb73740a315/channels/19%3Aabc%40thread.tacv2/messages');
  assert.equal(resource.template, '/teams/{teamId}/channels/{channelId}/messages');
  assert.equal(graphResource('/users/{user}/messages', { user: 'x/../../me?$top=1#' }).path, '/users/x%2F..%2F..%2Fme%3F%24top%3D1%23/messages');
  assert.throws(() => graphResource('/users/{user}', {}), /no usable value/);
  assert.throws(() => graphResource('/users/{user}', { user: '..' }), /no usable value/);
});
