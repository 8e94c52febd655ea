/**
 * What a 2026-07-28 client declared it can do, from the per-request
 * `_meta` envelope (`io.modelcontextprotocol/clientCapabilities`). 2025-era
 * requests are served statelessly here, so no `initialize` capabilities
 * are remembered for them: they declare nothing a tool may rely on.
 */

export type ClientCapabilities = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The capabilities a request's envelope carries, or undefined (2025 era, or none sent). */
export function capabilitiesFromEnvelope(envelope: unknown): ClientCapabilities | undefined {
  if (!isObject(envelope)) return undefined;
  const declared = envelope['io.modelcontextprotocol/clientCapabilities'];
  return isObject(declared) ? declared : undefined;
}

/**
 * Whether the client can answer a form-mode elicitation (`input_required`
 * with `elicitation/create`). As the SDK reads it: `elicitation.form`, or a
 * bare `elicitation: {}` (the pre-mode meaning); `elicitation: { url: {} }`
 * alone is URL mode only.
 */
export function canElicitForm(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation;
  if (!isObject(elicitation)) return false;
  return isObject(elicitation.form) || (elicitation.form === undefined && elicitation.url === undefined);
}
