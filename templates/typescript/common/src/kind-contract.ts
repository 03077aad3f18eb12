/** What src/kind.ts gives src/app.ts: the part of the app only this kind of app has. */
import type { FastifyPluginCallback } from 'fastify';
import type { Outage } from './errors.js';
import type { Readiness } from './routes/health.js';

export interface Kind {
  /** What /health/ready asks. */
  readiness: Readiness;
  /** Which errors are a dependency's outage (503), beside ULM's own (src/errors.ts). */
  isOutage: (error: unknown) => Outage | undefined;
  /** The kind's routes, mounted under /api/v1. */
  routes: FastifyPluginCallback;
}
