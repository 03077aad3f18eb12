/** GET /health: is this app up? */
import type { FastifyInstance } from 'fastify';
import { APP_SLUG } from '../config.js';

const healthSchema = {
  tags: ['health'],
  summary: 'Is the app up?',
  response: {
    200: {
      type: 'object',
      properties: {
        status: { type: 'string' },
        app: { type: 'string' },
      },
    },
  },
} as const;

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  /**
   * 200 while the app is up. This app has no database of its own (read-only against ULM);
   * ULM is not checked here, the routes that need it answer 503.
   */
  app.get('/health', { schema: healthSchema }, async () => ({ status: 'ok', app: APP_SLUG }));
}
