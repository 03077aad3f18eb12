/** src/db.ts without a database: the pool follows the DB_POOL_* settings. */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';
import { createDatabase, poolConfig } from '../src/db.js';

describe('database pool', () => {
  it('allows DB_POOL_SIZE + DB_MAX_OVERFLOW connections and waits DB_POOL_TIMEOUT seconds', () => {
    const { database } = readConfig({ DB_POOL_SIZE: '20', DB_MAX_OVERFLOW: '10', DB_POOL_TIMEOUT: '30' });

    expect(poolConfig(database)).toMatchObject({ max: 30, min: 20, connectionTimeoutMillis: 30_000 });
  });

  it('builds the real pool with those settings, without connecting', async () => {
    const { database } = readConfig({ DATABASE_URL: 'postgresql://x:y@127.0.0.1:1/none', DB_POOL_SIZE: '3', DB_MAX_OVERFLOW: '1', DB_POOL_TIMEOUT: '2' });
    const db = createDatabase(database);

    expect(db.pool.options.max).toBe(4);
    expect(db.pool.options.min).toBe(3);
    expect(db.pool.options.connectionTimeoutMillis).toBe(2000);
    expect(db.pool.totalCount).toBe(0);
    await db.close();
  });

  it('fails ping() when the database cannot be reached', async () => {
    const { database } = readConfig({ DATABASE_URL: 'postgresql://x:y@127.0.0.1:1/none', DB_POOL_TIMEOUT: '2' });
    const db = createDatabase(database);

    await expect(db.ping()).rejects.toThrow();
    await db.close();
  });
});

describe('?schema= in DATABASE_URL', () => {
  it('becomes the search_path of every pooled connection, and leaves the URL', () => {
    const { database } = readConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/app?schema=tenant_1&sslmode=require' });

    const config = poolConfig(database);

    expect(config.options).toBe('-c search_path=tenant_1');
    expect(config.connectionString).toBe('postgresql://u:p@db:5432/app?sslmode=require');
  });

  it('is left alone when absent, and refused when it is not a plain name', () => {
    expect(poolConfig(readConfig({ DATABASE_URL: 'postgresql://u:p@db/app' }).database).options).toBeUndefined();
    expect(() => poolConfig(readConfig({ DATABASE_URL: 'postgresql://u:p@db/app?schema=a%20b' }).database)).toThrow(/schema/);
  });
});

describe('shutdown', () => {
  it('closes the database the app made when the app closes', async () => {
    const { buildApp } = await import('../src/app.js');
    const config = readConfig({ DATABASE_URL: 'postgresql://x:y@127.0.0.1:1/none' });
    const app = await buildApp({ config });
    const db = app.db as ReturnType<typeof createDatabase>;
    expect(db.pool.ended).toBe(false);

    await app.close();

    expect(db.pool.ended).toBe(true);
  });
});
