import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRedirectUri } from './redirect-uri.ts';

const CLAUDE = 'https://claude.ai/api/mcp/auth_callback';

test('loopback URIs of native clients are allowed on any port; configured HTTPS callbacks exactly', () => {
  for (const uri of ['http://127.0.0.1:33418/callback', 'http://localhost:6274/oauth/callback', 'http://[::1]:8080/cb', 'http://127.0.0.1:9000', CLAUDE]) {
    assert.equal(checkRedirectUri(uri, [CLAUDE]).ok, true, uri);
  }
});

test('open-redirect tricks are refused', () => {
  const tricks = [
    'http://127.0.0.1.evil.example/callback',
    'http://127.0.0.1@evil.example/callback',
    'http://user:pass@127.0.0.1/callback',
    'http://127.0.0.1%2f@evil.example/callback',
    'http://127.0.0.1%2F.evil.example/callback',
    'http://127.0.0.1:80\\@evil.example/',
    'http://evil.example/callback',
    'https://evil.example/callback',
    'https://claude.ai/api/mcp/auth_callback/../../evil',
    'https://claude.ai/api/mcp/auth_callback?next=https://evil.example',
    'https://CLAUDE.ai/api/mcp/auth_callback',
    'http://127.0.0.1:5000/cb#fragment',
    'javascript:alert(1)',
    'http://0x7f.0.0.1/callback',
    'http://2130706433/callback',
    '',
  ];
  for (const uri of tricks) assert.equal(checkRedirectUri(uri, [CLAUDE]).ok, false, uri);
  assert.equal(checkRedirectUri(null, []).ok, false);
});
