/**
 * Example routes that read users from ULM: through its API, never its database.
 *
 * Callers must be authenticated (src/auth.ts). ULM errors become HTTP answers in src/errors.ts:
 * unknown user -> 404, ULM down -> 503, ULM too slow -> 504.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { authenticate } from '../auth.js';
import { ErrorBody, User } from '../schemas.js';

export const userRoutes: FastifyPluginCallbackTypebox = (app, _options, done) => {
  app.addHook('onRequest', authenticate);

  app.get(
    '/users/:userId',
    {
      schema: {
        tags: ['users'],
        summary: 'One user, read from ULM',
        params: Type.Object({ userId: Type.String({ minLength: 1 }) }),
        response: { 200: User, 401: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => app.ulm.getUser(request.params.userId, { requestId: request.id }),
  );

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Several users in one ULM call; ids ULM does not know are left out',
        querystring: Type.Object({ ids: Type.String({ description: 'Comma-separated ULM user ids, e.g. ids=a,b' }) }),
        response: { 200: Type.Array(User), 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) =>
      app.ulm.getUsers(
        request.query.ids
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
        { requestId: request.id },
      ),
  );
  done();
};
