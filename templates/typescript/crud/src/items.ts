/**
 * Example resource: items owned by ULM users.
 *
 * Items live in this app's database; their owners live in ULM. We store only the owner's ULM
 * id (`owner_user_id`, not a foreign key) and ask ULM's API for the user when we need it.
 */
import type { Item, PrismaClient } from './generated/prisma/client.js';

export type { Item };

export interface NewItem {
  name: string;
  ownerUserId: string;
}

/** The queries the routes need: the Prisma version below, an in-memory one in the tests. */
export interface ItemStore {
  create(data: NewItem): Promise<Item>;
  list(page: { limit: number; offset: number }): Promise<Item[]>;
  get(id: number): Promise<Item | null>;
}

export function prismaItemStore(prisma: PrismaClient): ItemStore {
  return {
    create: (data) => prisma.item.create({ data }),
    list: ({ limit, offset }) => prisma.item.findMany({ orderBy: { id: 'asc' }, take: limit, skip: offset }),
    get: (id) => prisma.item.findUnique({ where: { id } }),
  };
}

/** The JSON shape of an item (snake_case, as in the Python stack). */
export interface ItemJson {
  id: number;
  name: string;
  owner_user_id: string;
  created_at: string;
}

export function itemJson(item: Item): ItemJson {
  return {
    id: item.id,
    name: item.name,
    owner_user_id: item.ownerUserId,
    created_at: item.createdAt.toISOString(),
  };
}
