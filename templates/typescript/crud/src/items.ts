/**
 * Example resource: items owned by ULM users.
 *
 * Items live in this app's database; their owners live in ULM. We store only the owner's ULM
 * id (`owner_user_id`, not a foreign key) and ask ULM's API for the user when we need it.
 *
 * A change names the owner with the row (`WHERE id = $1 AND owner_user_id = $2`): whether the
 * caller may change it and the change itself are one statement, so no other request can slip
 * between a check and the write.
 */
import { Prisma, type Item, type PrismaClient } from './generated/prisma/client.js';

export type { Item };

export interface NewItem {
  name: string;
  ownerUserId: string;
}

export interface ItemChange {
  name?: string;
}

export interface Page {
  limit: number;
  offset: number;
  /** Only this owner's items. */
  ownerUserId?: string | undefined;
}

/** The queries the routes need: the Prisma version below, an in-memory one in the tests. */
export interface ItemStore {
  create(data: NewItem): Promise<Item>;
  list(page: Page): Promise<Item[]>;
  get(id: bigint): Promise<Item | null>;
  /** The changed item, or null when there is no item `id` owned by `ownerUserId`. */
  update(id: bigint, ownerUserId: string, change: ItemChange): Promise<Item | null>;
  /** Whether an item `id` owned by `ownerUserId` was there to delete. */
  delete(id: bigint, ownerUserId: string): Promise<boolean>;
}

/** Prisma's "the row to update was not found" (P2025). */
function isNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';
}

export function prismaItemStore(prisma: PrismaClient): ItemStore {
  return {
    create: (data) => prisma.item.create({ data }),
    list: ({ limit, offset, ownerUserId }) =>
      prisma.item.findMany({ where: ownerUserId === undefined ? {} : { ownerUserId }, orderBy: { id: 'asc' }, take: limit, skip: offset }),
    get: (id) => prisma.item.findUnique({ where: { id } }),
    async update(id, ownerUserId, change) {
      try {
        return await prisma.item.update({ where: { id, ownerUserId }, data: change });
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    async delete(id, ownerUserId) {
      const { count } = await prisma.item.deleteMany({ where: { id, ownerUserId } });
      return count > 0;
    },
  };
}

/** The JSON shape of an item (snake_case, as in the Python stack). */
export interface ItemJson {
  id: number;
  name: string;
  owner_user_id: string;
  created_at: string;
  updated_at: string;
}

export function itemJson(item: Item): ItemJson {
  return {
    // bigint in the database; exact as a JSON number up to 2^53, far beyond any identity here.
    id: Number(item.id),
    name: item.name,
    owner_user_id: item.ownerUserId,
    created_at: item.createdAt.toISOString(),
    updated_at: item.updatedAt.toISOString(),
  };
}
