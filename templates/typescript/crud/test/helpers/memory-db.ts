/**
 * An in-memory stand-in for src/db.ts, for the unit tests (no PostgreSQL needed).
 * PostgreSQL itself, through Prisma, is exercised in test/integration.
 */
import type { Database } from '../../src/db.js';
import type { Item, ItemChange, ItemStore, NewItem, Page } from '../../src/items.js';

export class MemoryItemStore implements ItemStore {
  readonly rows: Item[] = [];
  private nextId = 1n;
  /** Set to make every query fail with it, as the database would when it is down. */
  failure: Error | undefined;
  /** Queries answered, by method: which store (primary or replica) a route used. */
  readonly calls: string[] = [];

  private async run<T>(name: string, answer: () => T): Promise<T> {
    this.calls.push(name);
    if (this.failure) throw this.failure;
    return Promise.resolve(answer());
  }

  create(data: NewItem): Promise<Item> {
    return this.run('create', () => {
      const now = new Date();
      const item: Item = { id: this.nextId++, name: data.name, ownerUserId: data.ownerUserId, createdAt: now, updatedAt: now };
      this.rows.push(item);
      return { ...item };
    });
  }

  list({ limit, offset, ownerUserId }: Page): Promise<Item[]> {
    return this.run('list', () =>
      this.rows
        .filter((row) => ownerUserId === undefined || row.ownerUserId === ownerUserId)
        .slice(offset, offset + limit)
        .map((item) => ({ ...item })),
    );
  }

  get(id: bigint): Promise<Item | null> {
    return this.run('get', () => {
      const item = this.rows.find((row) => row.id === id);
      return item ? { ...item } : null;
    });
  }

  update(id: bigint, ownerUserId: string, change: ItemChange): Promise<Item | null> {
    return this.run('update', () => {
      const item = this.rows.find((row) => row.id === id && row.ownerUserId === ownerUserId);
      if (!item) return null;
      Object.assign(item, change, { updatedAt: new Date() });
      return { ...item };
    });
  }

  delete(id: bigint, ownerUserId: string): Promise<boolean> {
    return this.run('delete', () => {
      const index = this.rows.findIndex((row) => row.id === id && row.ownerUserId === ownerUserId);
      if (index < 0) return false;
      this.rows.splice(index, 1);
      return true;
    });
  }
}

export class MemoryDatabase implements Database {
  readonly items = new MemoryItemStore();
  /** The primary unless a test gives the app a replica of its own. */
  readItems: ItemStore = this.items;
  /** Set to false to make ping() fail, as if PostgreSQL were down; `slow` makes it never answer. */
  reachable = true;
  slow = false;
  closed = false;

  async ping(): Promise<void> {
    if (this.slow) await new Promise(() => {});
    if (!this.reachable) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
