/**
 * Integration tests against the real PostgreSQL database named by DATABASE_URL (environment or
 * backend/.env), e.g. postgresql://{{app.user}}:<password>@localhost:5432/{{app.db}}.
 *
 *   npm run test:integration
 *
 * They run in a schema of their own, created for the run (the app's login owns its database)
 * and dropped at the end, so they neither see nor touch the rows already there: DATABASE_URL
 * with `?schema=`, which both scripts/migrate.mjs (which records in _prisma_migrations exactly
 * as `prisma migrate deploy`) and the app (src/db.ts) honour. Without DATABASE_URL they fail
 * and say so: `npm test` leaves them out, and a run that asked for them should not pass by
 * skipping them.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ULMClient } from '../../src/clients/ulm.js';
import { loadEnvFile, readConfig } from '../../src/config.js';
import { createDatabase, type PrismaDatabase } from '../../src/db.js';
import { FAKE_ULM_URL, FakeULM, TOKEN } from '../helpers/fake-ulm.js';
import { onDatabase, schemaName, schemaUrl } from '../helpers/schema.js';

loadEnvFile();
const BACKEND = fileURLToPath(new URL('../..', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));
const SCHEMA = schemaName('test');

function migrate(databaseUrl: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['scripts/migrate.mjs', ...args], {
    cwd: BACKEND,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
}

describe('PostgreSQL (DATABASE_URL), in a schema of its own', () => {
  let db: PrismaDatabase;
  let url: string;

  beforeAll(async () => {
    await onDatabase(`CREATE SCHEMA "${SCHEMA}"`);
    url = schemaUrl(SCHEMA);
    migrate(url); // applies every migration; fails the suite if it cannot
    db = createDatabase({ ...readConfig().database, url });
  });

  afterAll(async () => {
    await db?.close();
    await onDatabase(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  });

  it('is at the latest migration, recorded as Prisma records it', async () => {
    expect(migrate(url, 'status')).toContain('Database schema is up to date!');
    const again = migrate(url);
    expect(again).toContain('No pending migrations to apply.');
    // It said which runner it used: Prisma's where its engine can be had, else the bundled one.
    expect(again).toMatch(/running prisma migrate deploy|with the bundled runner instead/);

    const names = fs
      .readdirSync(MIGRATIONS, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const rows = await db.prisma.$queryRaw<
      { migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]
    >`SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations WHERE rolled_back_at IS NULL`;
    expect(rows.map((r) => r.migration_name).sort()).toEqual(names.sort());
    for (const name of names) {
      const row = rows.find((r) => r.migration_name === name)!;
      const script = fs.readFileSync(`${MIGRATIONS}/${name}/migration.sql`);
      expect(row.checksum).toBe(crypto.createHash('sha256').update(script).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it("puts the app's tables in the schema ?schema= names, and queries them there", async () => {
    const tables = await db.prisma.$queryRaw<{ table_schema: string }[]>`
      SELECT table_schema FROM information_schema.tables WHERE table_name = 'items'`;
    expect(tables.map((t) => t.table_schema)).toContain(SCHEMA);
    const [current] = await db.prisma.$queryRaw<{ schema: string }[]>`SELECT current_schema() AS schema`;
    expect(current?.schema).toBe(SCHEMA);
    // Prisma's own queries too (it names the schema in them).
    const item = await db.items.create({ name: 'where', ownerUserId: 'u-1' });
    const [row] = await db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM items WHERE id = ${item.id} AND name = 'where'`;
    expect(Number(row?.n)).toBe(1);
  });

  it('stores and reads items through Prisma and the pg adapter', async () => {
    const item = await db.items.create({ name: 'integration widget', ownerUserId: '00000000-0000-0000-0000-000000000001' });

    const stored = await db.items.get(item.id);

    expect(stored).toMatchObject({ name: 'integration widget', ownerUserId: '00000000-0000-0000-0000-000000000001' });
    expect(stored!.createdAt).toBeInstanceOf(Date);
  });

  it('lists items in id order, paged, even after an update moved a row', async () => {
    await db.prisma.item.deleteMany();
    const ids = [];
    for (const name of ['A', 'B', 'C']) ids.push((await db.items.create({ name, ownerUserId: 'u-1' })).id);
    // An update moves A's row behind C's on disk: without ORDER BY, PostgreSQL would list B, C, A.
    await db.prisma.$executeRaw`UPDATE items SET name = 'A2' WHERE id = ${ids[0]}`;

    expect((await db.items.list({ limit: 100, offset: 0 })).map((i) => i.name)).toEqual(['A2', 'B', 'C']);
    expect((await db.items.list({ limit: 1, offset: 1 })).map((i) => i.id)).toEqual([ids[1]]);
  });

  it('gets the row asked for and nothing else: null for a missing id, whatever else is there', async () => {
    const a = await db.items.create({ name: 'first', ownerUserId: 'u-1' });
    const b = await db.items.create({ name: 'second', ownerUserId: 'u-2' });

    expect((await db.items.get(a.id))?.id).toBe(a.id);
    expect((await db.items.get(b.id))?.name).toBe('second');
    expect(await db.items.get(b.id + 1000n)).toBeNull();
    expect(await db.items.get(0n)).toBeNull();
  });

  it("changes and deletes only the owner's row: another caller's id changes nothing", async () => {
    const item = await db.items.create({ name: 'owned', ownerUserId: 'u-1' });

    expect(await db.items.update(item.id, 'u-2', { name: 'taken' })).toBeNull();
    expect(await db.items.delete(item.id, 'u-2')).toBe(false);
    expect(await db.items.get(item.id)).toMatchObject({ name: 'owned', ownerUserId: 'u-1' });

    const changed = await db.items.update(item.id, 'u-1', { name: 'renamed' });
    expect(changed).toMatchObject({ id: item.id, name: 'renamed' });
    expect(changed!.updatedAt.getTime()).toBeGreaterThanOrEqual(item.updatedAt.getTime());
    expect(await db.items.update(item.id + 1000n, 'u-1', { name: 'nobody' })).toBeNull();
    expect(await db.items.delete(item.id, 'u-1')).toBe(true);
    expect(await db.items.get(item.id)).toBeNull();
  });

  it('reads from a replica when DATABASE_READ_URL names one', async () => {
    // The same database as a stand-in replica, reached through a second pool.
    const withReplica = createDatabase({ ...readConfig().database, url, readUrl: url });
    try {
      const item = await withReplica.items.create({ name: 'replicated', ownerUserId: 'u-1' });
      expect((await withReplica.readItems.get(item.id))?.name).toBe('replicated');
      expect(withReplica.readPool!.totalCount).toBeGreaterThan(0);
    } finally {
      await withReplica.close();
    }
  });

  it('falls back to the primary while the replica is unreachable, and writes go on', async () => {
    const replicaDown = createDatabase({ ...readConfig().database, url, readUrl: 'postgresql://nobody:x@127.0.0.1:1/none', connectTimeout: 1 });
    try {
      const item = await replicaDown.items.create({ name: 'still written', ownerUserId: 'u-1' });
      expect((await replicaDown.readItems.get(item.id))?.name).toBe('still written');
      const started = performance.now();
      expect((await replicaDown.readItems.list({ limit: 100, offset: 0 })).map((i) => i.id)).toContain(item.id);
      // The replica is skipped for a while after it failed: no second wait.
      expect(performance.now() - started).toBeLessThan(500);
    } finally {
      await replicaDown.close();
    }
  });

  it('uses a pool shaped by DB_POOL_SIZE + DB_MAX_OVERFLOW and DB_POOL_TIMEOUT', () => {
    const { database } = readConfig();

    expect(db.pool.options.max).toBe(database.poolSize + database.maxOverflow);
    expect(db.pool.options.connectionTimeoutMillis).toBe(database.poolTimeout * 1000);
  });

  it('serves /api/v1/items and /health/ready from PostgreSQL (ULM faked)', async () => {
    const fakeUlm = new FakeULM();
    const ulm = new ULMClient({ baseUrl: FAKE_ULM_URL, fetch: fakeUlm.fetch, backoffBaseMs: 0 });
    const app = await buildApp({ config: readConfig(), ulm, db });
    const headers = { authorization: `Bearer ${TOKEN}` };
    try {
      const post = await app.inject({ method: 'POST', url: '/api/v1/items', payload: { name: 'api widget' }, headers });
      expect(post.statusCode, post.body).toBe(201);

      const get = await app.inject({ method: 'GET', url: `/api/v1/items/${post.json<{ id: number }>().id}`, headers });
      expect(get.statusCode, get.body).toBe(200);
      expect(get.json()).toMatchObject({ item: { name: 'api widget', owner_user_id: 'u-1' }, owner: { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' } });

      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.json()).toMatchObject({ status: 'ok', database: 'ok' });
    } finally {
      await app.close(); // a database passed in stays open (closed in afterAll)
    }
  });
});
