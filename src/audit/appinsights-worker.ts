import { parentPort, workerData } from 'node:worker_threads';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { createCredentialProvider } from '../azure/credential.ts';
import { commonJsExports } from '../core/interop.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './appinsights-messages.ts';
import { classifyIngestionResponse, recordIdsOf, unansweredOutcome } from './ingestion-outcome.ts';

/**
 * Runs Application Insights in its own thread: loading the SDK takes about
 * half a second of synchronous module evaluation, which must not stall the
 * request thread at cold start. The worker only sends; which records are
 * delivered is decided in the main thread (appinsights-sink.ts) from the
 * per-request outcomes this worker reports.
 */
const settings = workerData as WorkerSettings;
const port = parentPort;
if (!port) throw new Error('appinsights-worker must run as a worker thread');
const post = (message: FromWorker) => port.postMessage(message);

/**
 * Sees every ingestion request of the exporter after serialization and
 * before the retry and token policies (no phase = between Serialize and
 * Retry), so it learns the final answer, or that none came (network, no
 * Monitor token), for exactly the envelopes that request carried.
 */
const deliveryConfirmation: PipelinePolicy = {
  name: 'auditDeliveryConfirmation',
  async sendRequest(request, next) {
    const ids = recordIdsOf(request.body);
    try {
      const response = await next(request);
      if (ids.length > 0) {
        const outcome = classifyIngestionResponse(ids, response.status, response.bodyAsText ?? undefined, response.headers.get('retry-after'));
        post({ type: 'outcome', ...outcome });
      }
      return response;
    } catch (error) {
      if (ids.length > 0) post({ type: 'outcome', ...unansweredOutcome(ids, error) });
      throw error;
    }
  },
};

const queue: ToWorker[] = [];
let client: import('applicationinsights').TelemetryClient | undefined;

function handle(message: ToWorker, telemetry: import('applicationinsights').TelemetryClient) {
  if (message.type === 'event') {
    const { event } = message;
    telemetry.trackEvent({ name: event.name, properties: event.properties, measurements: event.measurements, time: new Date(event.time) });
    return;
  }
  // Export what is batched now; the outcomes arrive through the policy.
  void telemetry.flush().catch(() => undefined);
}

port.on('message', (message: ToWorker) => {
  if (client) handle(message, client);
  else queue.push(message);
});

// Statsbeat (the SDK's usage metrics to Microsoft) and SDK stats are off unless
// configured (AUDIT_SDK_STATS). Off any recognised host statsbeat also asks the
// VM metadata service (169.254.169.254) what machine it runs on: a useless
// probe where identity comes from IDENTITY_ENDPOINT. Only
// APPLICATION_INSIGHTS_NO_STATSBEAT turns every part off (any value counts),
// read in each exporter's constructor, so before the first TelemetryClient.
// A worker's process.env is its own copy: this does not reach the main thread.
if (!settings.sdkStats) process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = 'true';

try {
  const [sdk, credential, resources] = await Promise.all([
    import('applicationinsights'),
    createCredentialProvider(settings)(),
    import('@opentelemetry/resources'),
  ]);
  const { TelemetryClient } = commonJsExports(sdk);
  const { resourceFromAttributes } = commonJsExports(resources);
  const telemetry = new TelemetryClient(settings.connectionString, { useGlobalProviders: false });
  // Entra-authenticated ingestion: works when the component has local (key) auth disabled.
  telemetry.config.aadTokenCredential = credential;
  // No disk retry: on an ephemeral Functions instance a local file is not
  // durability, and a replay behind our back would duplicate the records the
  // main thread re-sends. Retries are the main thread's, per record.
  telemetry.config.enableUseDiskRetryCaching = false;
  telemetry.config.azureMonitorOpenTelemetryOptions = {
    ...telemetry.config.azureMonitorOpenTelemetryOptions,
    azureMonitorExporterOptions: {
      connectionString: settings.connectionString,
      additionalPolicies: [{ policy: deliveryConfirmation, position: 'perCall' }],
      // One retry layer, per record, in the main thread (honouring Retry-After); the
      // pipeline's own would retry whole batches out of our sight.
      retryOptions: { maxRetries: 0 },
    },
    // Without a service name the exporter labels every event "unknown_service:node".
    resource: resourceFromAttributes({ 'service.name': settings.roleName, 'service.version': settings.version }),
  };
  client = telemetry;
  for (const message of queue.splice(0)) handle(message, telemetry);
} catch (error) {
  post({ type: 'failed', error: (error as Error).message });
}
