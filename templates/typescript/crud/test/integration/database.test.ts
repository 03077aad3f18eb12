/**
 * Integration tests against the real PostgreSQL database named by DATABASE_URL (environment or
 * backend/.env), e.g. postgresql://{{app.user}}:<password>@localhost:5432/{{app.db}}.
 *
 *   npm run test:integration
 *
 * They first bring the database to the latest migration (scripts/migrate.mjs, which records in
 * _prisma_migrations exactly as `prisma migrate deploy`), and delete the rows they create.
 * Without DATABASE_URL they fail and say so: `npm test` leaves them out, and a run that asked for
 * them should not pass by skipping them.
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
import { FAKE_ULM_URL, FakeULM } from '../helpers/fake-ulm.js';

loadEnvFile();
const BACKEND = fileURLToPath(new URL('../..', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

function migrate(...args: string[]): string {
  return execFileSync(process.execPath, ['scripts/migrate.mjs', ...args], { cwd: BACKEND, encoding: 'utf8' });
}

describe('PostgreSQL (DATABASE_URL)', () => {
  let db: PrismaDatabase;
  const created: number[] = [];

  beforeAll(() => {
    if (!process.env.DATABASE_URL?.startsWith('postgres')) {
      throw new Error("integration tests need DATABASE_URL (environment or .env) set to this app's PostgreSQL database");
    }
    migrate(); // applies what is pending; fails the suite if it cannot
    db = createDatabase(readConfig().database);
  });

  afterAll(async () => {
    if (!db) return;
    if (created.length) await db.prisma.item.deleteMany({ where: { id: { in: created } } });
    await db.close();
  });

  it('is at the latest migration, recorded as Prisma records it', async () => {
    expect(migrate('status')).toContain('Database schema is up to date!');
    expect(migrate()).toContain('No pending migrations to apply.');

    const names = fs
      .readdirSync(MIGRATIONS, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const rows = await db.prisma.$queryRaw<
      { migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]
    >`SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations WHERE rolled_back_at IS NULL`;
    for (const name of names) {
      const row = rows.find((r) => r.migration_name === name);
      const script = fs.readFileSync(`${MIGRATIONS}/${name}/migration.sql`);
      expect(row, name).toBeDefined();
      expect(row!.checksum).toBe(crypto.createHash('sha256').update(script).digest('hex'));
      expect(row!.finished_at).toBeInstanceOf(Date);
      expect(row!.applied_steps_count).toBe(1);
    }
  });

  it('stores and reads items through Prisma and the pg adapter', async () => {
    const item = await db.items.create({ name: 'integration widget', ownerUserId: '00000000-0000-0000-0000-000000000001' });
    created.push(item.id);

    const stored = await db.items.get(item.id);

    expect(stored).toMatchObject({ name: 'integration widget', ownerUserId: '00000000-0000-0000-0000-000000000001' });
    expect(stored!.createdAt).toBeInstanceOf(Date);
    expect((await db.items.list({ limit: 200, offset: 0 })).some((i) => i.id === item.id)).toBe(true);
  });

  it('uses a pool shaped by DB_POOL_SIZE + DB_MAX_OVERFLOW and DB_POOL_TIMEOUT', () => {
    const { database } = readConfig();

    expect(db.pool.options.max).toBe(database.poolSize + database.maxOverflow);
    expect(db.pool.options.connectionTimeoutMillis).toBe(database.poolTimeout * 1000);
  });

  it('serves /items and /health from PostgreSQL (ULM faked)', async () => {
    const fakeUlm = new FakeULM();
    const ulm = new ULMClient({ baseUrl: FAKE_ULM_URL, fetch: fakeUlm.fetch, backoffBaseMs: 0 });
    const app = await buildApp({ config: readConfig(), ulm, db });
    try {
      const post = await app.inject({ method: 'POST', url: '/items', payload: { name: 'api widget', owner_user_id: 'u-2' } });
      expect(post.statusCode, post.body).toBe(201);
      created.push(post.json().id);

      const get = await app.inject({ method: 'GET', url: `/items/${post.json().id}` });
      expect(get.statusCode, get.body).toBe(200);
      expect(get.json().item.name).toBe('api widget');
      expect(get.json().owner.email).toBe('alan@example.com');

      const health = await app.inject({ method: 'GET', url: '/health' });
      expect(health.json()).toMatchObject({ status: 'ok', database: 'ok' });
    } finally {
      await app.close(); // a database passed in stays open (closed in afterAll)
    }
  });
});
