/**
 * What a readonly app adds to src/app.ts: no database and no resource of its own. ULM, its one
 * dependency, is what /health/ready asks (the client's circuit breaker open counts as down).
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Kind } from './kind-contract.js';

export type KindOptions = Record<never, never>;

const RETRY_AFTER_SECONDS = 5;

export const registerKind: (app: FastifyInstance, config: Config, options: KindOptions) => Promise<Kind> = (app) =>
  Promise.resolve({
    readiness: { name: 'ulm', check: (timeoutMs) => app.ulm.ping(timeoutMs), retryAfter: RETRY_AFTER_SECONDS },
    isOutage: () => undefined,
    routes: (_app, _opts, done) => done(),
  });
