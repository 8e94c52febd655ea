import { z } from 'zod';
import { positiveInt } from '../../config-fields.ts';
import { checkGraphSettings, graphSettingsFrom, graphSettingsShape, type GraphSettings } from '../../graph/settings.ts';
import { defineToolsetSettings } from '../define-toolset.ts';

/**
 * The Graph toolsets' settings: the Graph layer's (endpoint, retries,
 * breaker, cursors: src/graph/settings.ts) plus what the tools decide:
 * result sizes, how writes are confirmed, and the marker on what is sent.
 * Who Graph sees is GRAPH_IDENTITY (src/azure/downstream-settings.ts, with
 * the other backends' identities).
 */

export const WRITE_CONFIRMATIONS = ['preview', 'none'] as const;
export type WriteConfirmation = (typeof WRITE_CONFIRMATIONS)[number];
export const DEFAULT_SENT_MARKER = 'Sent by an AI assistant on behalf of {user}.';

const shape = {
  ...graphSettingsShape,
  /** Most items one call returns (messages, mail, events, …); a call may ask for fewer. */
  GRAPH_MAX_ITEMS: positiveInt(50, 200),
  /** Characters of one message or mail body in a result; longer ones are cut, and the cut is said. */
  GRAPH_MAX_BODY_CHARS: positiveInt(2000, 20_000),
  /**
   * How a write (post a message, send mail, create a team) is confirmed by clients that cannot be
   * asked (no elicitation): `preview` (default) answers with what would be sent and a short-lived
   * confirmation token, and only a second call with that token sends; `none` sends at once.
   * 2026-07-28 clients that declare elicitation are always asked.
   */
  GRAPH_WRITE_CONFIRMATION: z.enum(WRITE_CONFIRMATIONS, { error: `must be one of ${WRITE_CONFIRMATIONS.join(', ')}` }).default('preview'),
  /** The line added to messages and mail the server sends; `{user}` is the signed-in user's name. `off` for none. */
  GRAPH_SENT_MARKER: z
    .string()
    .max(300, { error: 'must be at most 300 characters' })
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? DEFAULT_SENT_MARKER : value.trim() === 'off' ? undefined : value.trim())),
};

export interface GraphModuleSettings extends GraphSettings {
  maxItems: number;
  maxBodyChars: number;
  writeConfirmation: WriteConfirmation;
  /** Undefined: no marker. */
  sentMarker: string | undefined;
}

export const graphModuleSettings = defineToolsetSettings({
  shape,
  // The values are the whole settings object: KEY_VAULT_URL, which the cursor key needs, is a general one.
  check: (values, ctx) => checkGraphSettings(values as typeof values & { KEY_VAULT_URL?: string | undefined }, ctx),
  from: (values): GraphModuleSettings => ({
    ...graphSettingsFrom(values),
    maxItems: values.GRAPH_MAX_ITEMS,
    maxBodyChars: values.GRAPH_MAX_BODY_CHARS,
    writeConfirmation: values.GRAPH_WRITE_CONFIRMATION,
    sentMarker: values.GRAPH_SENT_MARKER,
  }),
});
