import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatReadState } from './chat-read-state.ts';

const me = '5a3b0000-0000-4000-8000-0000000000aa';
const other = '5a3b0000-0000-4000-8000-000000000001';
const last = (at: string, from = other) => ({ createdDateTime: at, from: { user: { id: from } } });

test('a last message after the read marker is unread; at or before it, read', () => {
  assert.equal(chatReadState({ viewpoint: { lastMessageReadDateTime: '2026-03-01T10:00:00Z' }, lastMessagePreview: last('2026-03-01T10:00:01Z') }, me), 'unread');
  assert.equal(chatReadState({ viewpoint: { lastMessageReadDateTime: '2026-03-01T10:00:00Z' }, lastMessagePreview: last('2026-03-01T10:00:00Z') }, me), 'read');
  assert.equal(chatReadState({ viewpoint: { lastMessageReadDateTime: '2026-03-01T10:00:00Z' }, lastMessagePreview: last('2026-02-28T10:00:00Z') }, me), 'read');
});

test('never read (no marker) is unread, unless the last message is the caller\'s own', () => {
  assert.equal(chatReadState({ viewpoint: { lastMessageReadDateTime: null }, lastMessagePreview: last('2026-03-01T10:00:00Z') }, me), 'unread');
  assert.equal(chatReadState({ viewpoint: { lastMessageReadDateTime: null }, lastMessagePreview: last('2026-03-01T10:00:00Z', me.toUpperCase()) }, me), 'read');
});

test('no viewpoint (app-only: Graph leaves it out) is unknown; no last message is read', () => {
  assert.equal(chatReadState({ viewpoint: null, lastMessagePreview: last('2026-03-01T10:00:00Z') }, me), 'unknown');
  assert.equal(chatReadState({ lastMessagePreview: last('2026-03-01T10:00:00Z') }, me), 'unknown');
  assert.equal(chatReadState({ viewpoint: { lastMessageReadDateTime: null }, lastMessagePreview: null }, me), 'read');
});
