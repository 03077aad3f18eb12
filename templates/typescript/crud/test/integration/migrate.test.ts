/**
 * scripts/migrate.mjs against PostgreSQL (DATABASE_URL), each test in a schema of its own with
 * migrations of its own (MIGRATIONS_DIR): what `prisma migrate deploy` and `resolve` would do.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadEnvFile } from '../../src/config.js';
import { onDatabase, schemaName, schemaUrl } from '../helpers/schema.js';

loadEnvFile();
const BACKEND = fileURLToPath(new URL('../..', import.meta.url));

let schema: string;
let url: string;
let dir: string;

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${schema}"`);
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

function migration(name: string, script: string): void {
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(path.join(dir, name, 'migration.sql'), script);
}

/** Runs the bundled runner (Prisma's engine is not wanted here) and returns its exit code and output. */
function migrate(...args: string[]): { code: number | null; out: string } {
  const argv = args[0] === 'resolve' || args[0] === 'status' ? args : ['deploy', '--bundled', ...args];
  const r = spawnSync(process.execPath, ['scripts/migrate.mjs', ...argv], {
    cwd: BACKEND,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: url, MIGRATIONS_DIR: dir },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

beforeEach(async () => {
  schema = schemaName('test');
  url = schemaUrl(schema);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  await onDatabase(`CREATE SCHEMA "${schema}"`);
  migration('20250101000000_init', 'CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL);\n');
});

afterEach(async () => {
  await onDatabase(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Row {
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
}
const records = () => sql<Row>('SELECT migration_name, finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY started_at');

describe('scripts/migrate.mjs', () => {
  it('runs a migration PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY) outside one', async () => {
    migration('20250102000000_index', 'CREATE INDEX CONCURRENTLY ix_things_name ON things (name);\n');

    const r = migrate();

    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('outside a transaction');
    expect((await records()).map((row) => [row.migration_name, row.finished_at !== null])).toEqual([
      ['20250101000000_init', true],
      ['20250102000000_index', true],
    ]);
    expect(await sql("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_things_name'")).toHaveLength(1);
  });

  it('rolls a failing transactional migration back entirely, leaving no record', async () => {
    migration('20250102000000_bad', 'ALTER TABLE things ADD COLUMN x int;\nSELECT * FROM nowhere;\n');

    const r = migrate();

    expect(r.code).toBe(1);
    expect(r.out).toContain('rolled back');
    expect((await records()).map((row) => row.migration_name)).toEqual(['20250101000000_init']);
    expect(await sql("SELECT 1 FROM information_schema.columns WHERE table_name = 'things' AND column_name = 'x'")).toEqual([]);
  });

  it('records a failing non-transactional migration as failed, refuses to go on (P3009), and retries it after resolve --rolled-back', async () => {
    migration('20250102000000_index', 'CREATE INDEX CONCURRENTLY ix_nowhere ON nowhere (name);\n');

    expect(migrate().code).toBe(1);
    const [, failed] = await records();
    expect(failed).toMatchObject({ migration_name: '20250102000000_index', finished_at: null, rolled_back_at: null, logs: expect.stringContaining('nowhere') as unknown });
    const again = migrate();
    expect(again.code).toBe(1);
    expect(again.out).toContain('P3009');

    expect(migrate('resolve', '--rolled-back', '20250102000000_index').code).toBe(0);
    migration('20250102000000_index', 'CREATE INDEX CONCURRENTLY ix_things_name ON things (name);\n');
    const fixed = migrate();

    expect(fixed.code, fixed.out).toBe(0);
    const rows = await records();
    expect(rows.filter((row) => row.migration_name === '20250102000000_index').map((row) => [row.finished_at !== null, row.rolled_back_at !== null])).toEqual([
      [false, true],
      [true, false],
    ]);
  });

  it('baselines a schema that already has the tables with resolve --applied, as Prisma does', async () => {
    await sql('CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL)');

    const refused = migrate();
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('P3005');

    expect(migrate('resolve', '--applied', '20250101000000_init').code).toBe(0);
    expect((await records())[0]).toMatchObject({ migration_name: '20250101000000_init', applied_steps_count: 0 });
    expect(migrate().out).toContain('No pending migrations to apply.');
    expect(migrate('status').code).toBe(0);
    expect(migrate('resolve', '--applied', '20250101000000_init').out).toContain('P3008');
  });
});
