import { parentPort, workerData } from 'node:worker_threads';
import { createCredentialProvider } from '../azure/credential.ts';
import { commonJsExports } from '../core/interop.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './appinsights-messages.ts';

/**
 * Runs Application Insights in its own thread: loading the SDK takes about
 * half a second of synchronous module evaluation, which must not stall the
 * request thread at cold start. Messages are handled in order, so a flush
 * covers every event sent before it.
 */
const settings = workerData as WorkerSettings;
const port = parentPort;
if (!port) throw new Error('appinsights-worker must run as a worker thread');
const post = (message: FromWorker) => port.postMessage(message);

const queue: ToWorker[] = [];
let client: import('applicationinsights').TelemetryClient | undefined;

async function handle(message: ToWorker, telemetry: import('applicationinsights').TelemetryClient) {
  if (message.type === 'event') {
    const { event } = message;
    telemetry.trackEvent({ name: event.name, properties: event.properties, measurements: event.measurements, time: new Date(event.time) });
    return;
  }
  try {
    await telemetry.flush();
    post({ type: 'flushed', id: message.id });
  } catch (error) {
    post({ type: 'flushed', id: message.id, error: (error as Error).message });
  }
}

let draining = Promise.resolve();
port.on('message', (message: ToWorker) => {
  queue.push(message);
  if (client) draining = draining.then(drain);
});

async function drain() {
  while (client && queue.length > 0) await handle(queue.shift() as ToWorker, client);
}

// No statsbeat (the SDK's own usage metrics, sent to Microsoft). Off any
// recognised host (FUNCTIONS_WORKER_RUNTIME, WEBSITE_SITE_NAME, AKS) statsbeat
// asks the VM metadata service (http://169.254.169.254, IMDS) what machine
// it runs on: a useless probe where identity comes from IDENTITY_ENDPOINT, a
// 5 s hang or a firewall alert elsewhere. In @azure/monitor-opentelemetry-exporter
// only APPLICATION_INSIGHTS_NO_STATSBEAT turns it off (read in each exporter's
// constructor, so before the first TelemetryClient call);
// APPLICATIONINSIGHTS_STATSBEAT_DISABLED only drops the non-essential counters.
// A worker's process.env is its own copy: this does not reach the main thread.
process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = 'true';

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
  telemetry.config.enableUseDiskRetryCaching = settings.diskRetry;
  // Without a service name the exporter labels every event "unknown_service:node".
  telemetry.config.azureMonitorOpenTelemetryOptions = {
    ...telemetry.config.azureMonitorOpenTelemetryOptions,
    resource: resourceFromAttributes({ 'service.name': settings.roleName, 'service.version': settings.version }),
  };
  client = telemetry;
  draining = draining.then(drain);
} catch (error) {
  post({ type: 'failed', error: (error as Error).message });
}
