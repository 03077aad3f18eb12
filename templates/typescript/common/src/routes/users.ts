/**
 * Example routes that read users from ULM: through its API, never its database.
 *
 * ULM errors become HTTP answers in src/errors.ts: unknown user -> 404, ULM down, failing or
 * timing out -> 503.
 */
import type { FastifyInstance } from 'fastify';

const user = { type: 'object', additionalProperties: true, description: 'A user, as ULM returns it' } as const;

export async function userRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { userId: string } }>(
    '/users/:userId',
    {
      schema: {
        tags: ['users'],
        summary: 'One user, read from ULM',
        params: { type: 'object', properties: { userId: { type: 'string', minLength: 1 } }, required: ['userId'] },
        response: { 200: user },
      },
    },
    async (request) => app.ulm.getUser(request.params.userId),
  );

  app.get<{ Querystring: { ids: string } }>(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Several users in one ULM call; ids ULM does not know are left out',
        querystring: {
          type: 'object',
          properties: { ids: { type: 'string', description: 'Comma-separated ULM user ids, e.g. ids=a,b' } },
          required: ['ids'],
        },
        response: { 200: { type: 'array', items: user } },
      },
    },
    async (request) =>
      app.ulm.getUsers(
        request.query.ids
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      ),
  );
}
