/**
 * Health probes, open to anyone (no token).
 *
 * - `GET /health/live`  the process answers; no dependency is asked. A liveness probe restarts
 *   the app only when it is really stuck.
 * - `GET /health/ready` the database answers `SELECT 1` within READY_TIMEOUT_MS; 503 otherwise
 *   (take the app out of rotation). ULM is not checked: this app serves its own data while ULM
 *   is down.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { APP_SLUG } from '../config.js';
import { DATABASE_RETRY_AFTER } from '../db.js';

export const READY_TIMEOUT_MS = 1000;

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const Live = Type.Object({ status: Type.String(), app: Type.String() });
const Ready = Type.Object({ status: Type.String(), app: Type.String(), database: Type.String() });

export const healthRoutes: FastifyPluginCallbackTypebox = (app, _options, done) => {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'The process answers', response: { 200: Live } } }, () =>
    Promise.resolve({ status: 'ok', app: APP_SLUG }),
  );

  app.get(
    '/health/ready',
    { schema: { tags: ['health'], summary: 'The database answers quickly', response: { 200: Ready, 503: Ready } } },
    async (request, reply) => {
      try {
        await withTimeout(app.db.ping(), READY_TIMEOUT_MS);
      } catch (error) {
        request.log.warn(`Readiness: database unavailable: ${error instanceof Error ? error.message : String(error)}`);
        return reply
          .code(503)
          .header('Retry-After', String(DATABASE_RETRY_AFTER))
          .send({ status: 'error', app: APP_SLUG, database: 'unavailable' });
      }
      return { status: 'ok', app: APP_SLUG, database: 'ok' };
    },
  );
  done();
};
