import type { Client } from '@microsoft/microsoft-graph-client';

/**
 * Team creation is asynchronous in Graph: `POST /teams` answers 202 with
 * `Location: /teams('{id}')/operations('{opId}')` (a teamsAsyncOperation)
 * and no body. The Graph client returns only bodies, so the POST is made
 * with the raw response type, and a failed answer is turned back into the
 * error shape graph-errors.ts reads (status, body, headers). The operation
 * is then polled a bounded number of times.
 */

export interface AcceptedCreation {
  /** The operation's path below the version root. */
  location: string;
  teamId: string;
  operationId: string;
}

export interface CreationOutcome {
  status: 'succeeded' | 'failed' | string;
  teamId: string;
  operationId: string;
  error?: string;
}

/** Waits between polls, in ms: about 7 s in all, then the tool answers "pending". */
export const POLL_DELAYS_MS = [400, 800, 1200, 2000, 2500];

/** A non-2xx raw answer, shaped as graph-errors.ts reads Graph's errors. */
class RawGraphAnswerError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
    readonly headers: Headers,
  ) {
    super(`Graph answered ${statusCode}`);
    this.name = 'RawGraphAnswerError';
  }
  get requestId() {
    return this.headers.get('request-id');
  }
}

const KEYED = /teams\('([^']+)'\)\/operations\('([^']+)'\)/i;

export async function postForLocation(client: Client, path: string, body: unknown, signal: AbortSignal): Promise<AcceptedCreation> {
  // 'raw' is ResponseType.RAW; the enum lives in the lazily loaded SDK.
  const response = (await client.api(path).option('signal', signal).responseType('raw' as never).post(body)) as Response;
  if (!response.ok) throw new RawGraphAnswerError(response.status, await response.text(), response.headers);
  const location = response.headers.get('location') ?? '';
  const keys = KEYED.exec(location);
  if (!keys) throw new Error(`Graph accepted the team creation without a usable Location header (${location.slice(0, 120) || 'none'})`);
  return { location: `/teams/${encodeURIComponent(keys[1]!)}/operations/${encodeURIComponent(keys[2]!)}`, teamId: keys[1]!, operationId: keys[2]! };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

export async function pollTeamCreation(client: Client, accepted: AcceptedCreation, signal: AbortSignal, delays: readonly number[] = POLL_DELAYS_MS): Promise<CreationOutcome> {
  let status = 'notStarted';
  for (const delay of delays) {
    await sleep(delay, signal);
    const operation = (await client.api(accepted.location).option('signal', signal).get()) as { status?: string; targetResourceId?: string | null; error?: { message?: string } | null };
    status = operation.status ?? status;
    const teamId = operation.targetResourceId ?? accepted.teamId;
    if (status === 'succeeded') return { status, teamId, operationId: accepted.operationId };
    if (status === 'failed') return { status, teamId, operationId: accepted.operationId, ...(operation.error?.message && { error: operation.error.message }) };
  }
  return { status, teamId: accepted.teamId, operationId: accepted.operationId };
}
