import functions from '@azure/functions';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { registerFunctions } from './functions-registration.ts';

/** Azure Functions entry (package.json `main`). A bad setting throws here, so the host reports it at start. */
const config = loadConfig();
// @azure/functions is CommonJS without static named exports, hence the default import.
// Streamed bodies: progress for long calls reaches the client while they run, and uploads are read as they arrive.
functions.app.setup({ enableHttpStream: true });
registerFunctions(functions.app, createApp(config), config.authMode, { oauthFacade: config.auth.facade !== undefined });
