import { z } from 'zod';

/** The input fields every write tool shares, and the output every write tool's result may take (sent, or only previewed). */

/** The text of a Teams message (channel or chat). */
export const messageContentInput = z
  .string()
  .min(1)
  .max(20_000)
  .describe('The message, as Markdown (default) or text. A line saying it was sent by an assistant on your behalf is added.');

export const formatInput = z
  .enum(['markdown', 'text'])
  .default('markdown')
  .describe('markdown (default): bold, italics, lists, links, code, tables, converted to safe HTML; text: sent as typed. Raw HTML is never sent as HTML.');

export const confirmationTokenInput = z
  .string()
  .max(1024)
  .optional()
  .describe(
    'Only when an earlier call of this tool answered status "preview": its confirmationToken, with exactly the same other arguments, to send what was previewed. Valid 5 minutes, for you and these arguments only.',
  );

export const previewOutput = z.object({
  action: z.string(),
  where: z.string(),
  /** The text as the recipients will read it, marker included. */
  text: z.string(),
  /** The Graph request that will be made, exactly. */
  request: z.object({ method: z.string(), path: z.string(), body: z.record(z.string(), z.unknown()) }),
});
export type WritePreview = z.infer<typeof previewOutput>;

/**
 * A write tool's output: `status` (the tool's own done states, or
 * `preview`), what was previewed with the token to confirm it, and the
 * tool's own fields once done (optional, as a preview has none of them).
 */
export function writeOutput<const Done extends readonly [string, ...string[]], Fields extends z.ZodRawShape>(done: Done, fields: Fields) {
  return z.object({
    status: z.enum([...done, 'preview']),
    preview: previewOutput.optional(),
    confirmationToken: z.string().optional(),
    expiresAt: z.string().optional(),
    ...fields,
  });
}
