import { z } from 'zod';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { outgoingBody, sentMarker } from './outgoing-body.ts';
import { runWrite } from './write-frame.ts';
import { confirmationTokenInput, formatInput, writeOutput } from './write-schemas.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['Mail.Send'], application: ['Mail.Send'] };
// "me" is always the caller: /me on behalf of the user, /users/<caller> app-only, never a mailbox the caller names.
const TEMPLATE = '/users/{caller}/sendMail';

const address = z.email({ error: 'must be an email address like ada@contoso.com' }).max(320);
const recipients = (what: string, min: number) => z.array(address).min(min).max(20).describe(`${what}: 1 to 20 email addresses.`);

const input = z
  .object({
    to: recipients('Recipients', 1),
    cc: recipients('Copy recipients', 1).optional(),
    subject: z.string().trim().min(1).max(255),
    body: z.string().min(1).max(100_000).describe('The mail text, as Markdown (default) or text. A line saying it was sent by an assistant on your behalf is added.'),
    format: formatInput,
    confirmationToken: confirmationTokenInput,
  })
  .strict();

const output = writeOutput(['sent'], { recipients: z.number().optional() });

const asRecipients = (list: readonly string[] | undefined) => (list ?? []).map((value) => ({ emailAddress: { address: value } }));

export const graphMailSend = defineGraphTool({
  name: 'graph_mail_send',
  title: 'Send mail',
  description:
    "Send an email from the signed-in user's mailbox (saved to Sent Items): to (1-20 addresses), optional cc, subject and body. " +
    'The user is asked to confirm first; with clients that cannot ask, the first call returns status "preview" and a confirmationToken: show the preview to the user and call again with the same arguments and that token. ' +
    'Graph accepts the mail for delivery (it does not report delivery itself).',
  summary: "Send mail from the signed-in user's mailbox",
  toolset: 'graph.send',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input,
  output,
  // Addresses, subject and body never reach the audit log; the result's recipient count does not either (only sizes).
  sensitiveArguments: ['to', 'cc', 'subject', 'body', 'confirmationToken'],
  handler: (args, ctx) => {
    const count = new Set([...args.to, ...(args.cc ?? [])].map((value) => value.toLowerCase())).size;
    return runWrite(ctx, {
      tool: 'graph_mail_send',
      args,
      call: { target: TEMPLATE, permissions: PERMISSIONS, method: 'POST' },
      howToCheck: "Look in the user's Sent Items (or ask a recipient) for this mail.",
      async prepare(session) {
        const body = await outgoingBody(args.body, args.format, sentMarker(ctx.services.settings.sentMarker, ctx.caller));
        const request = {
          message: { subject: args.subject, body: { contentType: 'HTML', content: body.html }, toRecipients: asRecipients(args.to), ...(args.cc && { ccRecipients: asRecipients(args.cc) }) },
          saveToSentItems: true,
        };
        const where = `to ${args.to.join(', ')}${args.cc ? `, cc ${args.cc.join(', ')}` : ''}`;
        return { request, preview: { action: 'Send this mail', where, text: `Subject: ${args.subject}\n\n${body.previewText}`, request: { method: 'POST', path: `/${session.me}/sendMail`, body: request } } };
      },
      async send(session, request) {
        // 202 Accepted, no body.
        await session.client.api(`/${session.me}/sendMail`).option('signal', ctx.signal).post(request);
        return jsonResult({ status: 'sent', recipients: count }, `Mail sent to ${count} recipient${count === 1 ? '' : 's'} (accepted by Microsoft Graph; saved to Sent Items).`, { resultRows: count });
      },
    });
  },
});
