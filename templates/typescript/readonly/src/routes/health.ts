/**
 * Health probes, open to anyone (no token).
 *
 * - `GET /health/live`  the process answers; no dependency is asked.
 * - `GET /health/ready` ULM, this app's only dependency, answers within READY_TIMEOUT_MS (and
 *   its circuit breaker is closed); 503 otherwise.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { APP_SLUG } from '../config.js';

export const READY_TIMEOUT_MS = 1000;
const RETRY_AFTER_SECONDS = 5;

const Live = Type.Object({ status: Type.String(), app: Type.String() });
const Ready = Type.Object({ status: Type.String(), app: Type.String(), ulm: Type.String() });

export const healthRoutes: FastifyPluginCallbackTypebox = (app, _options, done) => {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'The process answers', response: { 200: Live } } }, () =>
    Promise.resolve({ status: 'ok', app: APP_SLUG }),
  );

  app.get(
    '/health/ready',
    { schema: { tags: ['health'], summary: 'ULM answers quickly', response: { 200: Ready, 503: Ready } } },
    async (request, reply) => {
      try {
        await app.ulm.ping(READY_TIMEOUT_MS);
      } catch (error) {
        request.log.warn(`Readiness: ULM unavailable: ${error instanceof Error ? error.message : String(error)}`);
        return reply
          .code(503)
          .header('Retry-After', String(RETRY_AFTER_SECONDS))
          .send({ status: 'error', app: APP_SLUG, ulm: 'unavailable' });
      }
      return { status: 'ok', app: APP_SLUG, ulm: 'ok' };
    },
  );
  done();
};
