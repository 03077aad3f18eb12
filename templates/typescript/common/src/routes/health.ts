/**
 * Health probes, open to anyone (no token).
 *
 * - `GET /health/live`  the process answers; no dependency is asked. A liveness probe restarts
 *   the app only when it is really stuck.
 * - `GET /health/ready` the app's own dependency answers within READY_TIMEOUT_MS (src/kind.ts
 *   says which: a crud app's database, a readonly app's ULM); 503 otherwise (take the app out
 *   of rotation).
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { APP_SLUG } from '../config.js';

export const READY_TIMEOUT_MS = 1000;

/** What /health/ready asks: `check` resolves when `name` answers within `timeoutMs`. */
export interface Readiness {
  name: string;
  check(timeoutMs: number): Promise<void>;
  /** Seconds a client is told to wait (Retry-After) when it does not. */
  retryAfter: number;
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const Live = Type.Object({ status: Type.String(), app: Type.String() });
// The dependency's name is the key: {"database": "ok"} or {"ulm": "ok"}.
const Ready = Type.Object({ status: Type.String(), app: Type.String() }, { additionalProperties: Type.String() });

export const healthRoutes: FastifyPluginCallbackTypebox<{ readiness: Readiness }> = (app, { readiness }, done) => {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'The process answers', response: { 200: Live } } }, () =>
    Promise.resolve({ status: 'ok', app: APP_SLUG }),
  );

  app.get(
    '/health/ready',
    { schema: { tags: ['health'], summary: `The ${readiness.name} answers quickly`, response: { 200: Ready, 503: Ready } } },
    async (request, reply) => {
      try {
        await withTimeout(readiness.check(READY_TIMEOUT_MS), READY_TIMEOUT_MS);
      } catch (error) {
        request.log.warn(`Readiness: ${readiness.name} unavailable: ${error instanceof Error ? error.message : String(error)}`);
        return reply
          .code(503)
          .header('Retry-After', String(readiness.retryAfter))
          .send({ status: 'error', app: APP_SLUG, [readiness.name]: 'unavailable' });
      }
      return { status: 'ok', app: APP_SLUG, [readiness.name]: 'ok' };
    },
  );
  done();
};
