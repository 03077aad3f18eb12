/** GET /health: is this app up, and can it reach its database? */
import type { FastifyInstance } from 'fastify';
import { APP_SLUG } from '../config.js';

/** A health probe must answer quickly, even when the pool would wait DB_POOL_TIMEOUT seconds. */
const DATABASE_CHECK_TIMEOUT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const healthSchema = {
  tags: ['health'],
  summary: 'Is the app up?',
  response: {
    200: {
      type: 'object',
      properties: {
        status: { type: 'string' },
        app: { type: 'string' },
        database: { type: 'string' },
      },
    },
    503: {
      type: 'object',
      properties: { status: { type: 'string' }, app: { type: 'string' }, database: { type: 'string' } },
    },
  },
} as const;

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  /**
   * 200 when the database answers, 503 (database "unavailable") when it does not.
   * ULM is not checked here: this app stays up while ULM is down, and the routes that need
   * ULM answer 503 themselves.
   */
  app.get('/health', { schema: healthSchema }, async (request, reply) => {
    try {
      await withTimeout(app.db.ping(), DATABASE_CHECK_TIMEOUT_MS);
    } catch (error) {
      request.log.warn(`Health check: database unavailable: ${(error as Error).message}`);
      return reply.code(503).send({ status: 'error', app: APP_SLUG, database: 'unavailable' });
    }
    return { status: 'ok', app: APP_SLUG, database: 'ok' };
  });
}
