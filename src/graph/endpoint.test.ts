import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointUrl, graphEndpoint, isEndpointUrl } from './endpoint.ts';

test('only absolute https URLs of the endpoint under /v1.0/ are its URLs', () => {
  const endpoint = graphEndpoint('https://graph.localhost:8443');
  assert.equal(isEndpointUrl(endpoint, 'https://graph.localhost:8443/v1.0/me'), true);
  for (const url of [
    'https://graph.localhost/v1.0/me',
    'https://graph.localhost:8444/v1.0/me',
    'http://graph.localhost:8443/v1.0/me',
    'https://graph.localhost:8443/beta/me',
    'https://graph.localhost:8443/v1.0/../beta/me',
    'https://graph.localhost:8443@evil.example/v1.0/me',
    'https://user:pw@graph.localhost:8443/v1.0/me',
    'https://graph.localhost:8443.evil.example/v1.0/me',
    '/v1.0/me',
    'not a url',
  ]) {
    assert.equal(isEndpointUrl(endpoint, url), false, url);
  }
});

test('resource paths hang off the version root; anything else is refused', () => {
  const endpoint = graphEndpoint();
  assert.equal(endpointUrl(endpoint, '/me/joinedTeams'), 'https://graph.microsoft.com/v1.0/me/joinedTeams');
  assert.throws(() => endpointUrl(endpoint, 'me'), /starts with one/);
  assert.throws(() => endpointUrl(endpoint, '//evil.example/x'), /starts with one/);
  assert.throws(() => graphEndpoint('https://a:b@graph.microsoft.com'), /credentials/);
});
