/** What a crud app's tests run with beside the fake ULM: an in-memory database. */
import { MemoryDatabase } from './memory-db.js';

export function kindFixtures() {
  return { db: new MemoryDatabase() };
}

export type KindFixtures = ReturnType<typeof kindFixtures>;
