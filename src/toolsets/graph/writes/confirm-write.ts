import { z } from 'zod';
import { inputRequired, inputResponse } from '@modelcontextprotocol/server';
import { toolError, type ToolInputRequired, type ToolResult } from '../../../tools/define-tool.ts';
import { graphTarget, type GraphToolContext } from '../common.ts';
import { ConfirmationRefusedError } from './confirmation-token.ts';
import type { WritePreview } from './write-schemas.ts';

/**
 * The gate before every write. Who decides:
 * - a 2026-07-28 client that declared form elicitation: the user, asked
 *   through an `input_required` result showing what will be sent where; the
 *   write goes ahead only on an explicit accept with `confirm: true`;
 * - any other client, by GRAPH_WRITE_CONFIRMATION: `preview` answers the
 *   first call with the exact preview and a confirmation token, and only a
 *   second call with the same arguments and that token goes ahead; `none`
 *   goes ahead at once.
 * Returns nothing when the write may go ahead, else the result to answer with.
 */

export const CONFIRM_KEY = 'confirm';
const confirmSchema = z.object({ confirm: z.boolean().describe('Send it exactly as shown') });

export interface WriteGate {
  tool: string;
  /** Arguments of the call; `confirmationToken` is left out of what a token binds. */
  args: Record<string, unknown>;
  preview: WritePreview;
  /** Resource template for audit (`/teams/{teamId}/channels/{channelId}/messages`). */
  target: string;
}

export function confirmationMessage(preview: WritePreview): string {
  return `${preview.action} ${preview.where}?\n\n${preview.text}`;
}

export async function confirmWrite(ctx: GraphToolContext, gate: WriteGate): Promise<ToolResult | ToolInputRequired | undefined> {
  const audit = { target: graphTarget(gate.target), downstreamIdentity: ctx.services.identity };
  const { confirmationToken, ...bound } = gate.args as { confirmationToken?: unknown } & Record<string, unknown>;

  if (ctx.canElicit) {
    const answer = inputResponse(ctx.inputResponses, CONFIRM_KEY);
    if (answer.kind === 'elicit') {
      if (answer.action === 'accept' && confirmSchema.safeParse(answer.content).data?.confirm === true) return undefined;
      const declined = toolError({
        message: `Not sent: the user did not confirm (${answer.action === 'accept' ? 'answered no' : answer.action === 'decline' ? 'declined' : 'cancelled'}). Nothing was sent to Microsoft Graph.`,
        nextStep: 'Do not send it again unless the user asks; change it as the user wants, then call again.',
        errorClass: 'not_confirmed',
      });
      return { ...declined, audit: { ...declined.audit, ...audit } };
    }
    return {
      ...inputRequired({ inputRequests: { [CONFIRM_KEY]: inputRequired.elicit({ message: confirmationMessage(gate.preview), requestedSchema: confirmSchema }) } }),
      audit,
    };
  }

  if (ctx.services.settings.writeConfirmation === 'none') return undefined;

  const scope = { caller: ctx.caller, tool: gate.tool, args: bound };
  if (typeof confirmationToken === 'string') {
    try {
      await ctx.services.confirmations.verify(scope, confirmationToken);
      return undefined;
    } catch (error) {
      if (!(error instanceof ConfirmationRefusedError)) throw error;
      const refused = toolError({
        message: error.message,
        nextStep: 'Call the tool again without confirmationToken to get a new preview, show it to the user, and confirm with the new token and exactly the same arguments.',
        errorClass: 'invalid_confirmation',
      });
      return { ...refused, audit: { ...refused.audit, ...audit } };
    }
  }
  const { token, expiresAt } = await ctx.services.confirmations.issue(scope);
  const text = [
    `Preview only: nothing was sent. ${confirmationMessage(gate.preview)}`,
    '',
    `To send it, show this to the user and, once they agree, call ${gate.tool} again with exactly the same arguments plus confirmationToken (valid until ${expiresAt}):`,
    token,
  ].join('\n');
  return { content: [{ type: 'text', text }], structuredContent: { status: 'preview', preview: gate.preview, confirmationToken: token, expiresAt }, audit };
}
