import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canElicitForm, capabilitiesFromEnvelope } from './client-capabilities.ts';

test('form elicitation: declared as elicitation.form or a bare elicitation, not URL mode alone', () => {
  assert.equal(canElicitForm({ elicitation: { form: {} } }), true);
  assert.equal(canElicitForm({ elicitation: {} }), true);
  assert.equal(canElicitForm({ elicitation: { form: {}, url: {} } }), true);
  assert.equal(canElicitForm({ elicitation: { url: {} } }), false);
  assert.equal(canElicitForm({ sampling: {} }), false);
  assert.equal(canElicitForm({ elicitation: true }), false);
  assert.equal(canElicitForm(undefined), false);
});

test('capabilities come only from the 2026-07-28 envelope key', () => {
  assert.deepEqual(capabilitiesFromEnvelope({ 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } }), { elicitation: {} });
  assert.equal(capabilitiesFromEnvelope({ clientCapabilities: { elicitation: {} } }), undefined);
  assert.equal(capabilitiesFromEnvelope({ 'io.modelcontextprotocol/clientCapabilities': [] }), undefined);
  assert.equal(capabilitiesFromEnvelope(undefined), undefined);
});
