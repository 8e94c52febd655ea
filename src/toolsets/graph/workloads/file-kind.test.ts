import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textKind } from './file-kind.ts';

test('text-like files by MIME type, HTML apart (it is converted)', () => {
  assert.equal(textKind('Meeting notes.txt', 'text/plain'), 'text');
  assert.equal(textKind('Launch checklist.md', 'text/markdown'), 'text');
  assert.equal(textKind('data.json', 'application/json'), 'text');
  assert.equal(textKind('feed', 'application/atom+xml'), 'text');
  assert.equal(textKind('page.html', 'text/html; charset=utf-8'), 'html');
});

test('octet-stream or no type: the extension decides', () => {
  assert.equal(textKind('Budget.csv', 'application/octet-stream'), 'text');
  assert.equal(textKind('build.LOG', undefined), 'text');
  assert.equal(textKind('index.htm', undefined), 'html');
  assert.equal(textKind('archive.zip', 'application/octet-stream'), undefined);
});

test('binaries are refused whatever the name says', () => {
  assert.equal(textKind('Q3 plan.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'), undefined);
  assert.equal(textKind('notes.txt', 'application/pdf'), undefined, 'a PDF named .txt stays binary');
  assert.equal(textKind('photo.png', 'image/png'), undefined);
});
