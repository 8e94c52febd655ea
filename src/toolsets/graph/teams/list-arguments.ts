import { z } from 'zod';

/** Arguments the Teams list tools share: how many items, where to continue, from when. */

/** A cursor is a few hundred characters (cursor.ts refuses anything past 8 KiB). */
export const cursorSchema = z
  .string()
  .min(1)
  .max(8192)
  .describe('The nextCursor of an earlier call with the same arguments, to continue where it stopped. Leave out for the first page.');

export const limitSchema = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .describe('Most items to return (capped by the server\'s GRAPH_MAX_ITEMS, 50 unless configured). Use nextCursor for more.');

/** A date, or a date and time with its zone: a time without a zone would be read in the server's zone. */
const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

export const sinceSchema = z
  .string()
  .trim()
  .regex(ISO_MOMENT, { error: 'must be a date (2026-03-01) or a date and time with its zone (2026-03-01T08:00:00Z)' })
  .refine((value) => !Number.isNaN(Date.parse(value)), { error: 'is not a real date' });

const count = new Intl.NumberFormat('en-US');
export const plural = (n: number, one: string, many = `${one}s`) => `${count.format(n)} ${n === 1 ? one : many}`;
