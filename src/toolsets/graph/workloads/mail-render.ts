import { z } from 'zod';

/** Outlook messages in lists (no bodies): the fields a list shows, in structured form and as CSV. */

export interface GraphMailSummary {
  id: string;
  subject?: string | null;
  from?: { emailAddress?: { name?: string | null; address?: string | null } | null } | null;
  receivedDateTime?: string | null;
  isRead?: boolean | null;
  bodyPreview?: string | null;
}

/** `$select` of a mail list: what a row shows, no body. */
export const MAIL_LIST_SELECT = ['subject', 'from', 'receivedDateTime', 'isRead', 'bodyPreview'] as const;
/** Characters of Outlook's body preview (itself at most 255) a list row keeps. */
const PREVIEW_CHARS = 160;

export const mailSummary = z.object({
  id: z.string(),
  subject: z.string(),
  from: z.string(),
  fromAddress: z.string().optional(),
  receivedDateTime: z.string().optional(),
  isRead: z.boolean().optional(),
  preview: z.string(),
});
export type MailSummary = z.infer<typeof mailSummary>;

export function summarizeMail(item: GraphMailSummary): MailSummary {
  const sender = item.from?.emailAddress;
  const preview = (item.bodyPreview ?? '').replace(/\s+/g, ' ').trim();
  return {
    id: item.id,
    subject: item.subject ?? '',
    from: sender?.name ?? sender?.address ?? 'unknown',
    ...(sender?.address && { fromAddress: sender.address }),
    ...(item.receivedDateTime && { receivedDateTime: item.receivedDateTime }),
    ...(typeof item.isRead === 'boolean' && { isRead: item.isRead }),
    preview: preview.length > PREVIEW_CHARS ? `${preview.slice(0, PREVIEW_CHARS).trimEnd()}…` : preview,
  };
}

export const MAIL_CSV_HEADER = 'id,receivedDateTime,isRead,from,fromAddress,subject,preview';
export const mailCsvValues = (m: MailSummary) => [m.id, m.receivedDateTime, m.isRead, m.from, m.fromAddress, m.subject, m.preview];
