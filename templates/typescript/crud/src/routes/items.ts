/**
 * Example CRUD resource, showing ADR-002's cross-service pattern.
 *
 * Items live in this app's database; their owners live in ULM. We store only the owner's ULM
 * id and ask ULM's API for the user when we need it: never a query against ulm_db.
 *
 * Who may do what: any authenticated caller may list and read items; the caller who creates an
 * item owns it (the id ULM gave for their token, never a field of the body); only the owner may
 * change or delete it. Anyone else gets 403 `not_owner`: they may read the item, so its existence
 * is no secret to them (README.md, "Items").
 *
 * Each Prisma query takes a pooled connection and gives it back when it is done; no
 * transaction is held open across a ULM call, so a slow ULM never holds a connection.
 *
 * Reads go to the read replica when there is one (src/db.ts), except a caller's reads right
 * after their own write (RecentWriters): a replica a moment behind must not hide what they
 * just wrote.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { authenticate } from '../auth.js';
import { ULMNotFoundError } from '../clients/ulm.js';
import { ApiError } from '../errors.js';
import { itemJson, type ItemStore } from '../items.js';
import { ErrorBody, User } from '../schemas.js';

/** How long after a write a caller's reads stay on the primary. */
export const READ_YOUR_WRITES_MS = 5_000;

/** Callers who wrote within READ_YOUR_WRITES_MS (in this process), oldest first. */
export class RecentWriters {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  wrote(userId: string): void {
    this.until.delete(userId);
    this.until.set(userId, this.now() + READ_YOUR_WRITES_MS);
    for (const [id, until] of this.until) {
      if (until > this.now()) break;
      this.until.delete(id);
    }
  }

  recent(userId: string): boolean {
    return (this.until.get(userId) ?? 0) > this.now();
  }
}

const Item = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  owner_user_id: Type.String({ description: 'Id of the owning user in ULM: whoever created the item' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const Name = Type.String({ minLength: 1, maxLength: 200 });
const NewItem = Type.Object({ name: Name }, { additionalProperties: false });
const ItemChange = Type.Object({ name: Type.Optional(Name) }, { additionalProperties: false, minProperties: 1 });

/** The most items one page holds. */
export const MAX_PAGE = 100;

const Page = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  mine: Type.Boolean({ default: false, description: "Only the caller's own items" }),
});

// The Python stack's page, field for field: `next_offset` is null on the last page.
const ItemPage = Type.Object({
  items: Type.Array(Item),
  limit: Type.Integer(),
  offset: Type.Integer(),
  next_offset: Type.Union([Type.Integer(), Type.Null()]),
});

const ItemId = Type.Object({ itemId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

const errors = { 401: ErrorBody, 503: ErrorBody, 504: ErrorBody } as const;

const notFound = (itemId: number) => new ApiError(404, 'item_not_found', `Item ${itemId} not found`);
const notOwner = (itemId: number) => new ApiError(403, 'not_owner', `Only the owner of item ${itemId} may change it`);

export const itemRoutes: FastifyPluginCallbackTypebox = (app, _options, done) => {
  app.addHook('onRequest', authenticate);
  const writers = new RecentWriters();
  // A change that matched no row of the caller's: 403 when the item is there (every caller may read
  // it, so its existence is no secret), 404 when it is not. Asked of the primary.
  const refused = async (itemId: number): Promise<ApiError> => ((await app.db.items.get(BigInt(itemId))) ? notOwner(itemId) : notFound(itemId));
  /** Where this caller's reads go: the replica, unless they just wrote. */
  const readsFor = (userId: string): ItemStore => (writers.recent(userId) ? app.db.items : app.db.readItems);
  const caller = (request: { user: { id: string } | null }) => {
    if (!request.user) throw new Error('authenticate did not run'); // a wiring bug: 500
    return request.user.id;
  };

  app.post(
    '/items',
    {
      schema: {
        tags: ['items'],
        summary: 'Create an item, owned by the caller',
        security: [{ bearer: [] }],
        body: NewItem,
        response: { 201: Item, 422: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      const owner = caller(request);
      const created = await app.db.items.create({ name: request.body.name, ownerUserId: owner });
      writers.wrote(owner);
      return reply.code(201).header('Location', `${request.url}/${created.id}`).send(itemJson(created));
    },
  );

  app.get(
    '/items',
    {
      schema: {
        tags: ['items'],
        summary: `Items, oldest first, at most ${MAX_PAGE} a page`,
        security: [{ bearer: [] }],
        querystring: Page,
        response: { 200: ItemPage, 422: ErrorBody, ...errors },
      },
    },
    async (request) => {
      const owner = caller(request);
      const { limit, offset, mine } = request.query;
      // One row more than the page: whether there is a next page, without counting them all.
      const rows = await readsFor(owner).list({ limit: limit + 1, offset, ownerUserId: mine ? owner : undefined });
      const more = rows.length > limit;
      return { items: rows.slice(0, limit).map(itemJson), limit, offset, next_offset: more ? offset + limit : null };
    },
  );

  app.get(
    '/items/:itemId',
    {
      schema: {
        tags: ['items'],
        summary: 'The item from this database, with its owner from ULM',
        security: [{ bearer: [] }],
        params: ItemId,
        response: { 200: Type.Object({ item: Item, owner: User }), 404: ErrorBody, 502: ErrorBody, ...errors },
      },
    },
    async (request) => {
      const { itemId } = request.params;
      const found = await readsFor(caller(request)).get(BigInt(itemId));
      if (!found) throw notFound(itemId);
      try {
        return { item: itemJson(found), owner: await app.ulm.getUser(found.ownerUserId, { requestId: request.id }) };
      } catch (error) {
        if (error instanceof ULMNotFoundError) {
          request.log.warn(`Owner '${found.ownerUserId}' of item ${itemId} is not in ULM`);
          throw new ApiError(404, 'owner_not_found', `The owner of item ${itemId} is not known to ULM`);
        }
        throw error; // ULMTimeoutError -> 504, ULMUnavailableError -> 503, other ULMErrors -> 502 (src/errors.ts)
      }
    },
  );

  app.patch(
    '/items/:itemId',
    {
      schema: {
        tags: ['items'],
        summary: 'Change an item: its owner only (anyone else: 403 not_owner)',
        security: [{ bearer: [] }],
        params: ItemId,
        body: ItemChange,
        response: { 200: Item, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody, ...errors },
      },
    },
    async (request) => {
      const owner = caller(request);
      const { itemId } = request.params;
      const changed = await app.db.items.update(BigInt(itemId), owner, request.body);
      if (!changed) throw await refused(itemId);
      writers.wrote(owner);
      return itemJson(changed);
    },
  );

  app.put(
    '/items/:itemId',
    {
      schema: {
        tags: ['items'],
        summary: 'Replace an item, the whole body as for a create: its owner only (anyone else: 403 not_owner)',
        security: [{ bearer: [] }],
        params: ItemId,
        body: NewItem,
        response: { 200: Item, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody, ...errors },
      },
    },
    async (request) => {
      const owner = caller(request);
      const { itemId } = request.params;
      const replaced = await app.db.items.update(BigInt(itemId), owner, { name: request.body.name });
      if (!replaced) throw await refused(itemId);
      writers.wrote(owner);
      return itemJson(replaced);
    },
  );

  app.delete(
    '/items/:itemId',
    {
      schema: {
        tags: ['items'],
        summary: 'Delete an item: its owner only (anyone else: 403 not_owner)',
        security: [{ bearer: [] }],
        params: ItemId,
        response: { 204: Type.Null(), 403: ErrorBody, 404: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      const owner = caller(request);
      const { itemId } = request.params;
      if (!(await app.db.items.delete(BigInt(itemId), owner))) throw await refused(itemId);
      writers.wrote(owner);
      return reply.code(204).send(null);
    },
  );
  done();
};
