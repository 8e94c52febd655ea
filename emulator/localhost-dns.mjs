/**
 * Preload (`node --import <this file>`) that resolves `localhost` and every
 * `*.localhost` name to 127.0.0.1, as RFC 6761 allows. glibc here does not
 * resolve subdomains of localhost, and the emulator routes by host name
 * (`<vault>.vault.localhost`, `identity.localhost`, ...).
 *
 * Plain JavaScript so it loads before any TypeScript loader. It replaces
 * `lookup` on the `node:dns` module object, which `net`, `https`, undici's
 * `fetch` and axios all call at connect time. Other names go to the original.
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

const LOOPBACK = { address: '127.0.0.1', family: 4 };
const resolveOriginal = dns.lookup;

function isLocalhostName(hostname) {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    return lookup(hostname, {}, options);
  }
  if (typeof hostname !== 'string' || !isLocalhostName(hostname)) {
    return resolveOriginal.call(dns, hostname, options, callback);
  }
  const wantsAll = typeof options === 'object' && options !== null && options.all === true;
  // Callbacks of dns.lookup are always asynchronous; keep that contract.
  process.nextTick(() => {
    if (wantsAll) callback(null, [LOOPBACK]);
    else callback(null, LOOPBACK.address, LOOPBACK.family);
  });
}

dns.lookup = lookup;
// Also update the named export seen by `import { lookup } from 'node:dns'`.
syncBuiltinESMExports();
