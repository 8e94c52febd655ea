/**
 * Exports of a dynamically imported CommonJS package. Under Node's own
 * loader they are on the namespace (and on `default`); once bundled by
 * esbuild they are only on `default`.
 */
export function commonJsExports<T>(namespace: T): T {
  return (namespace as { default?: T }).default ?? namespace;
}
