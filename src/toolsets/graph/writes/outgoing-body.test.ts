import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyRefusedError, outgoingBody, sentMarker } from './outgoing-body.ts';

const MARKER = 'Sent by an AI assistant on behalf of {user}.';

test('the marker names the caller, falls back to the sign-in name, and can be off', () => {
  assert.equal(sentMarker(MARKER, { name: 'Ada Lovelace', upn: 'ada@contoso.com' }), 'Sent by an AI assistant on behalf of Ada Lovelace.');
  assert.equal(sentMarker(MARKER, { name: undefined, upn: 'ada@contoso.com' }), 'Sent by an AI assistant on behalf of ada@contoso.com.');
  assert.equal(sentMarker(MARKER, { name: undefined, upn: undefined }), 'Sent by an AI assistant on behalf of the signed-in user.');
  assert.equal(sentMarker(undefined, { name: 'Ada', upn: undefined }), undefined);
});

test('markdown becomes sanitized HTML with the marker as a small italic paragraph, escaped', async () => {
  const body = await outgoingBody('**Ship it** <img src=x onerror=alert(1)><script>steal()</script> [plan](https://contoso.example/p)', 'markdown', 'Sent for <Ada>.');
  assert.match(body.html, /<strong>Ship it<\/strong>/);
  assert.match(body.html, /<a href="https:\/\/contoso.example\/p">plan<\/a>/);
  assert.doesNotMatch(body.html, /<img|<script|steal|onerror/);
  assert.ok(body.html.endsWith('<p><em>Sent for &lt;Ada&gt;.</em></p>'), body.html);
  assert.equal(body.previewText.split('\n').at(-1), 'Sent for <Ada>.');
});

test('text is escaped, line breaks kept; no marker when off', async () => {
  const body = await outgoingBody('a < b\n<b>not bold</b>', 'text', undefined);
  assert.equal(body.html, '<p>a &lt; b<br>&lt;b&gt;not bold&lt;/b&gt;</p>');
  assert.equal(body.previewText, 'a < b\n<b>not bold</b>');
});

test('content that sanitizes to nothing, and messages over the Teams limit, are refused', async () => {
  await assert.rejects(outgoingBody('<script>x()</script>', 'markdown', 'marker'), BodyRefusedError);
  await assert.rejects(outgoingBody('x'.repeat(30_000), 'text', undefined, 28_000), /too long for Microsoft Teams/);
});
