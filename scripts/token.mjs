// `npm run token`: an access token for the API from the running sandbox's
// emulated tenant (`MCP_AUTH_MODE=entra npm start`), printed on stdout.
//   npm run token                      a user with the delegated scope user_impersonation
//   npm run token -- --role toolset.kusto   a user with an app role (repeatable; toolset.<id> grants a toolset)
//   npm run token -- --app --role x    an app-only token
//   npm run token -- --upn ada@contoso.example
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { role: { type: 'string', multiple: true }, scope: { type: 'string' }, app: { type: 'boolean' }, upn: { type: 'string' } },
});
let state;
try {
  state = JSON.parse(readFileSync(new URL('../.sandbox/state.json', import.meta.url), 'utf8'));
} catch {
  console.error('No sandbox is running: start one with MCP_AUTH_MODE=entra npm start, then run npm run token again.');
  process.exit(1);
}
const body = JSON.stringify({ roles: values.role ?? [], scp: values.scope, app: values.app ?? false, upn: values.upn });
const answer = await new Promise((resolve, reject) => {
  const req = request(
    { host: '127.0.0.1', port: state.emulatorPort, path: '/sandbox/token', method: 'POST', servername: 'localhost', ca: readFileSync(state.caPath), headers: { host: `localhost:${state.emulatorPort}`, 'content-type': 'application/json' } },
    (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`sandbox answered ${res.statusCode}: ${text}`))));
    },
  );
  req.on('error', reject);
  req.end(body);
});
process.stdout.write(`${answer.access_token}\n`);
