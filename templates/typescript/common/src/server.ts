/**
 * Starts {{app.title}}: `npm run dev` (tsx, reloads) or `npm start` (the build in dist/).
 *
 * Listens on HOST:PORT (default 0.0.0.0:{{containerPort}}, the container port). On SIGTERM or
 * SIGINT it stops taking requests, lets running ones finish, closes what the app opened (a crud
 * app's database pools) and exits; a second signal, or 10 seconds, forces the exit.
 */
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

const SHUTDOWN_GRACE_MS = 10_000;

const config = loadConfig();
const app = await buildApp({
  config,
  logger: { level: config.debug ? 'debug' : 'info' },
});

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    app.log.warn(`${signal} again: exiting now`);
    process.exit(1);
  }
  stopping = true;
  app.log.info(`${signal} received: shutting down`);
  const force = setTimeout(() => {
    app.log.error(`Shutdown took longer than ${SHUTDOWN_GRACE_MS} ms: exiting`);
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  force.unref();
  try {
    await app.close(); // runs the onClose hooks (src/kind.ts)
    process.exit(0);
  } catch (error) {
    app.log.error(error, 'Shutdown failed');
    process.exit(1);
  }
}

process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));

try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  app.log.error(error, 'Could not start');
  process.exit(1);
}
