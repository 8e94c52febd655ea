import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_NEGOTIATED_PROTOCOL_VERSION, ErrorCode, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, allowsBatches } from './protocol.ts';

test('protocol constants match the SDK (update both when the SDK moves)', () => {
  assert.equal(LATEST_PROTOCOL_VERSION, sdk.LATEST_PROTOCOL_VERSION);
  assert.equal(DEFAULT_NEGOTIATED_PROTOCOL_VERSION, sdk.DEFAULT_NEGOTIATED_PROTOCOL_VERSION);
  assert.deepEqual([...SUPPORTED_PROTOCOL_VERSIONS], [...sdk.SUPPORTED_PROTOCOL_VERSIONS]);
  for (const name of ['ParseError', 'InvalidRequest', 'MethodNotFound', 'InvalidParams', 'InternalError'] as const) {
    assert.equal(ErrorCode[name], sdk.ErrorCode[name]);
  }
});

test('batches are allowed before 2025-06-18 only', () => {
  assert.equal(allowsBatches('2025-03-26'), true);
  assert.equal(allowsBatches('2024-11-05'), true);
  assert.equal(allowsBatches('2025-06-18'), false);
  assert.equal(allowsBatches('2025-11-25'), false);
});
