/** The host names that mean "this machine" in a URL (the forms a browser or client writes). */
const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a URL's `hostname` is loopback: `new URL(...).hostname`, so `[::1]` keeps its brackets. */
export const isLoopbackHostname = (hostname: string): boolean => LOOPBACK_HOSTNAMES.has(hostname);
