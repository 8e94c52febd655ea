/**
 * The cluster allow-list. Tools only ever talk to clusters configured here:
 * a cluster argument is a configured name or exactly a configured URL, so a
 * caller cannot point the server's identity at an arbitrary host (SSRF).
 */
export interface KustoCluster {
  name: string;
  /** `https://host[:port]`, no path, lower-case. */
  url: string;
  defaultDatabase?: string;
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Parses `KUSTO_CLUSTERS`: comma-separated `name=https://host[/defaultDatabase]`,
 * e.g. `help=https://help.kusto.windows.net/Samples`. Returns the problems
 * instead of throwing so the config module can report all of them at once.
 */
export function parseClusters(text: string | undefined): { clusters: KustoCluster[]; problems: string[] } {
  const clusters: KustoCluster[] = [];
  const problems: string[] = [];
  for (const entry of (text ?? '').split(',').map((item) => item.trim()).filter(Boolean)) {
    const separator = entry.indexOf('=');
    const name = entry.slice(0, separator).trim().toLowerCase();
    const rawUrl = entry.slice(separator + 1).trim();
    if (separator < 1 || !NAME.test(name)) {
      problems.push(`"${entry}" must be name=https://host[/database] with a name of lower-case letters, digits and dashes`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      problems.push(`cluster "${name}" has an invalid URL`);
      continue;
    }
    if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
      problems.push(`cluster "${name}" must be a plain https:// URL (no credentials, query or fragment)`);
      continue;
    }
    if (clusters.some((cluster) => cluster.name === name)) {
      problems.push(`cluster name "${name}" is listed twice`);
      continue;
    }
    const database = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''));
    clusters.push({ name, url: url.origin.toLowerCase(), ...(database && { defaultDatabase: database }) });
  }
  return { clusters, problems };
}

export type ClusterResolution = { ok: true; cluster: KustoCluster } | { ok: false; message: string };

/** Finds the cluster an argument names (or the default); anything not configured is refused. */
export function resolveCluster(clusters: readonly KustoCluster[], defaultName: string | undefined, requested: string | undefined): ClusterResolution {
  const allowed = clusters.map((c) => c.name).join(', ') || '(none configured)';
  if (clusters.length === 0) {
    return { ok: false, message: 'No Kusto cluster is configured on this server (KUSTO_CLUSTERS is empty).' };
  }
  if (requested === undefined || requested.trim() === '') {
    const fallback = clusters.find((c) => c.name === defaultName) ?? clusters[0];
    return fallback ? { ok: true, cluster: fallback } : { ok: false, message: 'No default cluster.' };
  }
  const wanted = requested.trim().toLowerCase().replace(/\/+$/, '');
  const match = clusters.find((c) => c.name === wanted || c.url === wanted);
  if (match) return { ok: true, cluster: match };
  return {
    ok: false,
    message: `Cluster "${requested.slice(0, 200)}" is not in this server's allow-list. Allowed clusters: ${allowed}. Use one of those names, or ask an operator to add the cluster to KUSTO_CLUSTERS.`,
  };
}
