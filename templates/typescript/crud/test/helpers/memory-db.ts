/**
 * An in-memory stand-in for src/db.ts, for the unit tests (no PostgreSQL needed).
 * PostgreSQL itself, through Prisma, is exercised in test/integration.
 */
import type { Database } from '../../src/db.js';
import type { Item, ItemStore, NewItem } from '../../src/items.js';

export class MemoryItemStore implements ItemStore {
  readonly rows: Item[] = [];
  private nextId = 1;
  /** Set to make every query fail with it, as the database would when it is down. */
  failure: Error | undefined;

  create(data: NewItem): Promise<Item> {
    if (this.failure) return Promise.reject(this.failure);
    const item: Item = { id: this.nextId++, name: data.name, ownerUserId: data.ownerUserId, createdAt: new Date() };
    this.rows.push(item);
    return Promise.resolve({ ...item });
  }

  list({ limit, offset }: { limit: number; offset: number }): Promise<Item[]> {
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve(this.rows.slice(offset, offset + limit).map((item) => ({ ...item })));
  }

  get(id: number): Promise<Item | null> {
    if (this.failure) return Promise.reject(this.failure);
    const item = this.rows.find((row) => row.id === id);
    return Promise.resolve(item ? { ...item } : null);
  }
}

export class MemoryDatabase implements Database {
  readonly items = new MemoryItemStore();
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
