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

describe('deadlines', () => {
  it('bounds every statement and lock wait on the server, and every answer on the client', () => {
    const config = poolConfig(readConfig({ DB_STATEMENT_TIMEOUT: '3', DB_LOCK_TIMEOUT: '1.5', DB_QUERY_TIMEOUT: '4', DB_POOL_TIMEOUT: '2' }).database);

    expect(config.options).toBe('-c statement_timeout=3000 -c lock_timeout=1500');
    expect(config).toMatchObject({ query_timeout: 4000, connectionTimeoutMillis: 2000 });
  });

  it('gives up connecting after DB_CONNECT_TIMEOUT, even when the pool would wait longer', async () => {
    // A listening socket that never answers: what a frozen server looks like to a new connection.
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const db = createDatabase(readConfig({ DATABASE_URL: `postgresql://x:y@127.0.0.1:${port}/none`, DB_POOL_TIMEOUT: '30', DB_CONNECT_TIMEOUT: '0.5' }).database);
    const started = performance.now();

    await expect(db.ping()).rejects.toThrow();

    expect(performance.now() - started).toBeLessThan(3000);
    await db.close();
    silent.close();
  });

  it('sends no startup options behind PgBouncer, which refuses them, and drops ?pgbouncer=true', () => {
    const config = poolConfig(readConfig({ DATABASE_URL: 'postgresql://u:p@pgb:6432/app?pgbouncer=true', DB_PGBOUNCER: 'true' }).database);

    expect(config.options).toBeUndefined();
    expect(config.connectionString).toBe('postgresql://u:p@pgb:6432/app');
    expect(config.query_timeout).toBe(6000);
  });

  it('gives the read replica its own pool with the same bounds', async () => {
    const { database } = readConfig({ DATABASE_URL: 'postgresql://x:y@127.0.0.1:1/none', DATABASE_READ_URL: 'postgresql://x:y@127.0.0.1:2/none' });
    const db = createDatabase(database);

    expect(db.readPool?.options).toMatchObject({ connectionString: 'postgresql://x:y@127.0.0.1:2/none', query_timeout: 6000 });
    expect(db.readItems).not.toBe(db.items);
    await db.close();
    expect(db.readPool?.ended).toBe(true);
  });

  it('reads from the primary when there is no replica', async () => {
    const db = createDatabase(readConfig({ DATABASE_URL: 'postgresql://x:y@127.0.0.1:1/none' }).database);

    expect(db.readPool).toBeUndefined();
    expect(db.readItems).toBe(db.items);
    await db.close();
  });
});

describe('?schema= in DATABASE_URL', () => {
  it('becomes the search_path of every pooled connection, and leaves the URL', () => {
    const { database } = readConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/app?schema=tenant_1&sslmode=require' });

    const config = poolConfig(database);

    expect(config.options).toBe('-c search_path=tenant_1 -c statement_timeout=5000 -c lock_timeout=2000');
    expect(config.connectionString).toBe('postgresql://u:p@db:5432/app?sslmode=require');
  });

  it('is left alone when absent, and refused when it is not a plain name', () => {
    expect(poolConfig(readConfig({ DATABASE_URL: 'postgresql://u:p@db/app' }).database).options).not.toContain('search_path');
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
