/**
 * Example CRUD resource, showing ADR-002's cross-service pattern.
 *
 * Items live in this app's database; their owners live in ULM. We store only the owner's ULM
 * id and ask ULM's API for the user when we need it: never a query against ulm_db.
 *
 * Each Prisma query takes a pooled connection and gives it back when it is done; no
 * transaction is held open across a ULM call, so a slow ULM never holds a connection.
 *
 * Callers must be authenticated (src/auth.ts). ULM answers are mapped so a ULM problem is never
 * a 500: unknown owner -> 404 (GET) / 422 (POST); ULM down -> 503, too slow -> 504; the database
 * down -> 503 (src/errors.ts).
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { authenticate } from '../auth.js';
import { ULMNotFoundError } from '../clients/ulm.js';
import { ApiError } from '../errors.js';
import { itemJson } from '../items.js';
import { ErrorBody, User } from '../schemas.js';

const Item = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  owner_user_id: Type.String({ description: 'Id of the owning user in ULM' }),
  created_at: Type.String({ format: 'date-time' }),
});

const NewItem = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  owner_user_id: Type.String({ minLength: 1, maxLength: 64, description: 'Id of the owning user in ULM' }),
});

const Page = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});

const ItemId = Type.Object({ itemId: Type.Integer({ minimum: -2147483648, maximum: 2147483647 }) });

const errors = { 401: ErrorBody, 503: ErrorBody } as const;

export const itemRoutes: FastifyPluginCallbackTypebox = (app, _options, done) => {
  app.addHook('onRequest', authenticate);

  app.post(
    '/items',
    {
      schema: {
        tags: ['items'],
        summary: 'Create an item; the owner must exist in ULM (checked through its API)',
        body: NewItem,
        response: { 201: Item, 422: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      const { name, owner_user_id: ownerUserId } = request.body;
      try {
        await app.ulm.getUser(ownerUserId);
      } catch (error) {
        if (error instanceof ULMNotFoundError) {
          // The request names an owner ULM does not know.
          throw new ApiError(422, 'owner_not_found', `Owner user '${ownerUserId}' does not exist in ULM`);
        }
        throw error; // ULMUnavailableError -> 503, other ULMErrors -> 502 (src/errors.ts)
      }
      const created = await app.db.items.create({ name, ownerUserId });
      return reply.code(201).send(itemJson(created));
    },
  );

  app.get(
    '/items',
    { schema: { tags: ['items'], summary: 'Items, oldest first', querystring: Page, response: { 200: Type.Array(Item), ...errors } } },
    async (request) => (await app.db.items.list(request.query)).map(itemJson),
  );

  app.get(
    '/items/:itemId',
    {
      schema: {
        tags: ['items'],
        summary: 'The item from this database, with its owner from ULM',
        params: ItemId,
        response: { 200: Type.Object({ item: Item, owner: User }), 404: ErrorBody, ...errors },
      },
    },
    async (request) => {
      const { itemId } = request.params;
      const found = await app.db.items.get(itemId);
      if (!found) throw new ApiError(404, 'item_not_found', `Item ${itemId} not found`);
      try {
        return { item: itemJson(found), owner: await app.ulm.getUser(found.ownerUserId) };
      } catch (error) {
        if (error instanceof ULMNotFoundError) {
          request.log.warn(`Owner '${found.ownerUserId}' of item ${itemId} is not in ULM`);
          throw new ApiError(404, 'owner_not_found', `The owner of item ${itemId} is not known to ULM`);
        }
        throw error; // ULMUnavailableError -> 503, other ULMErrors -> 502 (src/errors.ts)
      }
    },
  );
  done();
};
