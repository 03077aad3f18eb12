/**
 * Example CRUD resource, showing ADR-002's cross-service pattern.
 *
 * Items live in this app's database; their owners live in ULM. We store only the owner's ULM
 * id and ask ULM's API for the user when we need it: never a query against ulm_db.
 *
 * ULM answers are mapped so a ULM problem is never a 500: unknown owner -> 404 (GET) / 422
 * (POST); ULM down, failing or timing out -> 503 (src/errors.ts).
 */
import type { FastifyInstance } from 'fastify';
import { ULMNotFoundError } from '../clients/ulm.js';
import { HttpError } from '../errors.js';
import { itemJson } from '../items.js';

const item = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    owner_user_id: { type: 'string', description: 'Id of the owning user in ULM' },
    created_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'name', 'owner_user_id', 'created_at'],
} as const;

const detail = { type: 'object', properties: { detail: {} } } as const;

interface CreateBody {
  name: string;
  owner_user_id: string;
}

export async function itemRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: CreateBody }>(
    '/items',
    {
      schema: {
        tags: ['items'],
        summary: 'Create an item; the owner must exist in ULM (checked through its API)',
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            owner_user_id: { type: 'string', minLength: 1, maxLength: 64, description: 'Id of the owning user in ULM' },
          },
          required: ['name', 'owner_user_id'],
        },
        response: { 201: item, 422: detail, 503: detail },
      },
    },
    async (request, reply) => {
      const { name, owner_user_id: ownerUserId } = request.body;
      try {
        await app.ulm.getUser(ownerUserId);
      } catch (error) {
        if (error instanceof ULMNotFoundError) {
          // The request names an owner ULM does not know.
          throw new HttpError(422, `Owner user '${ownerUserId}' does not exist in ULM`);
        }
        throw error; // ULMUnavailableError -> 503, other ULMErrors -> 502 (src/errors.ts)
      }
      const created = await app.db.items.create({ name, ownerUserId });
      return reply.code(201).send(itemJson(created));
    },
  );

  app.get<{ Querystring: { limit: number; offset: number } }>(
    '/items',
    {
      schema: {
        tags: ['items'],
        summary: 'Items, oldest first',
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'array', items: item } },
      },
    },
    async (request) => (await app.db.items.list(request.query)).map(itemJson),
  );

  app.get<{ Params: { itemId: number } }>(
    '/items/:itemId',
    {
      schema: {
        tags: ['items'],
        summary: 'The item from this database, with its owner from ULM',
        params: { type: 'object', properties: { itemId: { type: 'integer', minimum: -2147483648, maximum: 2147483647 } }, required: ['itemId'] },
        response: {
          200: {
            type: 'object',
            properties: { item, owner: { type: 'object', additionalProperties: true, description: 'As ULM returns it' } },
            required: ['item', 'owner'],
          },
          404: detail,
          503: detail,
        },
      },
    },
    async (request) => {
      const { itemId } = request.params;
      const found = await app.db.items.get(itemId);
      if (!found) throw new HttpError(404, `Item ${itemId} not found`);
      let owner;
      try {
        owner = await app.ulm.getUser(found.ownerUserId);
      } catch (error) {
        if (error instanceof ULMNotFoundError) {
          throw new HttpError(404, `Owner of item ${itemId}: user '${found.ownerUserId}' was not found in ULM`);
        }
        throw error; // ULMUnavailableError -> 503, other ULMErrors -> 502 (src/errors.ts)
      }
      return { item: itemJson(found), owner };
    },
  );
}
