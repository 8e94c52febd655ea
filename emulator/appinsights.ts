/**
 * Application Insights ingestion ("Breeze") on `ingest.monitor.localhost`.
 *
 * The OpenTelemetry exporter behind `applicationinsights` v3 posts a JSON
 * array of envelopes to `<IngestionEndpoint>/v2.1/track`; it gzips only for
 * Azure's own hosts, so plain JSON is the norm here, but gzip and
 * newline-delimited JSON are accepted too. The reply is Breeze's
 * `{itemsReceived, itemsAccepted, appId, errors}`: 200 when every item is
 * accepted, 206 with per-item errors for a partial accept, 400 when none is.
 * The exporter retries 206/401/403/429/5xx.
 */
import { gunzipSync } from 'node:zlib';
import type { EmulatorContext, EmulatorService } from './types.ts';

export const INGESTION_HOST = 'ingest.monitor.localhost';
const MONITOR_HOST_SUFFIX = '.monitor.localhost';
/** Audience of the exporter's tokens (scope `https://monitor.azure.com/.default`). */
export const MONITOR_AUDIENCE = 'https://monitor.azure.com';
const TRACK_PATHS = new Set(['/v2/track', '/v2.1/track']);

export interface TelemetryEnvelope {
  name: string;
  time: string;
  iKey: string;
  ver?: number;
  sampleRate?: number;
  tags?: Record<string, string>;
  data?: { baseType: string; baseData: Record<string, unknown> };
}

interface ItemError {
  index: number;
  statusCode: number;
  message: string;
}

export interface AppInsightsIngestion extends EmulatorService {
  readonly instrumentationKey: string;
  /** When true, track calls need a bearer token for Monitor, as with `disableLocalAuth: true`. */
  requireEntraAuth: boolean;
  envelopes(): TelemetryEnvelope[];
  clearEnvelopes(): void;
  /**
   * Refuses the next `count` otherwise valid items one by one, as Breeze does
   * when it throttles or fails part of a batch: the batch gets 206 (or 400/500
   * when nothing was accepted) with an error per refused item.
   */
  failItems(count: number, statusCode: number, message?: string): void;
}

/** Breeze's per-item messages for the statuses it returns item by item. */
const ITEM_MESSAGES: Record<number, string> = {
  400: 'Invalid telemetry item.',
  429: 'Too many requests. The data was not accepted because the throttling limit was reached.',
  439: 'Too many requests over extended time.',
  500: 'Internal server error. Please retry.',
  503: 'Service unavailable. Please retry.',
};

function breezeReply(status: number, received: number, accepted: number, errors: ItemError[]): Response {
  return Response.json({ itemsReceived: received, itemsAccepted: accepted, appId: null, errors }, { status });
}

/** Rejects the whole batch with one error per item (one error when nothing could be read). */
function rejectAll(statusCode: number, items: unknown[], message: string): Response {
  const indexes = items.length > 0 ? items.map((_, index) => index) : [0];
  return breezeReply(statusCode, items.length, 0, indexes.map((index) => ({ index, statusCode, message })));
}

export function createAppInsightsIngestion(instrumentationKey: string): AppInsightsIngestion {
  const received: TelemetryEnvelope[] = [];
  const itemFailures: { statusCode: number; message: string }[] = [];
  const ingestion: AppInsightsIngestion = {
    name: 'appinsights',
    hostPattern: INGESTION_HOST,
    instrumentationKey,
    requireEntraAuth: false,
    matches: (hostname) => hostname.endsWith(MONITOR_HOST_SUFFIX),
    envelopes: () => [...received],
    clearEnvelopes: () => {
      received.length = 0;
    },
    failItems(count, statusCode, message = ITEM_MESSAGES[statusCode] ?? `Item refused with status ${statusCode}.`) {
      for (let i = 0; i < count; i++) itemFailures.push({ statusCode, message });
    },
    async handle(req, ctx) {
      const { pathname } = new URL(req.url);
      // Live metrics (QuickPulse) is not emulated; a quiet 404 makes the SDK back off.
      if (req.method !== 'POST' || !TRACK_PATHS.has(pathname)) return new Response(null, { status: 404 });
      const items = await readEnvelopes(req);
      const authError = await checkAuthorization(req, ctx, ingestion.requireEntraAuth);
      if (authError) return rejectAll(401, typeof items === 'string' ? [] : items, authError);
      if (typeof items === 'string') return rejectAll(400, [], items);
      const errors: ItemError[] = [];
      items.forEach((item, index) => {
        const problem = envelopeProblem(item, instrumentationKey);
        const injected = problem ? undefined : itemFailures.shift();
        if (problem) errors.push({ index, statusCode: 400, message: problem });
        else if (injected) errors.push({ index, ...injected });
        else received.push(item as TelemetryEnvelope);
      });
      const accepted = items.length - errors.length;
      const status = errors.length === 0 ? 200 : accepted > 0 ? 206 : 400;
      return breezeReply(status, items.length, accepted, errors);
    },
  };
  return ingestion;
}

/** The posted items, or a message saying why the body could not be read. */
async function readEnvelopes(req: Request): Promise<unknown[] | string> {
  let text: string;
  try {
    const raw = Buffer.from(await req.arrayBuffer());
    const gzipped = req.headers.get('content-encoding')?.toLowerCase() === 'gzip';
    text = (gzipped ? gunzipSync(raw) : raw).toString('utf8');
  } catch {
    return 'The request body could not be decompressed.';
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    // Older SDKs send one envelope per line.
  }
  try {
    return text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as unknown);
  } catch {
    return 'The request body is neither a JSON array nor newline-delimited JSON.';
  }
}

/** Null when authorized; otherwise the error message. A token, when sent, must always be valid. */
async function checkAuthorization(req: Request, ctx: EmulatorContext, required: boolean): Promise<string | null> {
  if (!req.headers.has('authorization')) {
    return required ? 'Authorization required: this resource accepts only Microsoft Entra authenticated telemetry.' : null;
  }
  const claims = await ctx.verifyBearer(req, MONITOR_AUDIENCE);
  return claims ? null : `Invalid bearer token: expected a valid signature, no expiry and audience ${MONITOR_AUDIENCE}.`;
}

/** Breeze's message for the first missing required field, or null for a valid envelope. */
function envelopeProblem(item: unknown, instrumentationKey: string): string | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'The envelope must be a JSON object.';
  const envelope = item as Record<string, unknown>;
  for (const field of ['name', 'time', 'iKey']) {
    const value = envelope[field];
    if (typeof value !== 'string' || value === '') {
      return `Field '${field}' on type 'Envelope' is required but missing or empty. Expected: string, Actual: ${typeof value}`;
    }
  }
  if (Number.isNaN(Date.parse(envelope.time as string))) return `Field 'time' on type 'Envelope' is not a valid date.`;
  if (envelope.iKey !== instrumentationKey) return `Invalid instrumentation key '${String(envelope.iKey)}'.`;
  return null;
}
