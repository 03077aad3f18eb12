/**
 * The generated TypeScript app as a product: installed from the npm registry, type-checked,
 * built, migrated (the app's offline Prisma migrator, since Prisma's engine download is not
 * reachable here), tested and booted against a real PostgreSQL 15 and a stand-in ULM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adrWorkspace, runCli, tempDir } from '../helpers/cli.ts';
import { freePort, mustRun, startFakeUlm, waitForHttp, type FakeUlm } from '../helpers/apps.ts';
import { withClient } from '../helpers/postgres.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';

const adminUrl = inject('adminUrl');
const ws = adrWorkspace();
let ulm: FakeUlm;

const appEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra });

/** Runs the app's own vitest and returns its counts from the JSON report. */
async function vitestCounts(backend: string, script: string, env: NodeJS.ProcessEnv = {}) {
  const report = path.join(tempDir('ovu-vitest-'), 'report.json');
  await mustRun('npm', ['run', script, '--', '--reporter=json', `--outputFile=${report}`], { cwd: backend, env: appEnv(env) });
  const r = JSON.parse(fs.readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
}

async function boot(backend: string, env: NodeJS.ProcessEnv): Promise<{ url: string; proc: ResultPromise }> {
  const port = await freePort();
  const proc = execa(process.execPath, ['dist/server.js'], { cwd: backend, env: appEnv({ ...env, PORT: String(port), HOST: '127.0.0.1' }), extendEnv: false, reject: false });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, 60_000, proc);
  return { url, proc };
}

async function stop(proc: ResultPromise): Promise<void> {
  proc.kill('SIGTERM');
  const r = await proc;
  // Graceful shutdown: SIGTERM ends it cleanly, not by the signal's default action.
  expect(r.signal ?? 'exited').toBe('exited');
}

beforeAll(async () => {
  ulm = await startFakeUlm();
  ulm.users.set('u-1', { id: 'u-1', email: 'ada@example.com' });
});
afterAll(async () => {
  await ulm.stop();
});

describe('generated crud app (typescript)', () => {
  const backend = path.join(ws, 'orders/backend');
  let databaseUrl: string;

  it('is generated, installed, provisioned and migrated by one command', async () => {
    const r = await runCli(['orders', '--stack', 'typescript', '--yes', '--install', '--create-db', '--migrate', '--admin-url', adminUrl, '--workspace', ws], { timeout: 600_000 });
    expect(r.stderr).toMatch(/✔ Installing orders's dependencies/);
    expect(r.stderr).toMatch(/✔ Running the first migration \(node scripts\/migrate\.mjs\)/);
    expect(r.exitCode).toBe(0);
    expect(fs.existsSync(path.join(backend, 'src/generated/prisma'))).toBe(true);
    databaseUrl = readEnvVar(fs.readFileSync(path.join(backend, '.env'), 'utf8'), 'DATABASE_URL')!;
    expect(new URL(databaseUrl).username).toBe('orders_user');
    expect(new URL(databaseUrl).pathname).toBe('/orders_db');
  });

  it('really migrated the database, as Prisma records it', async () => {
    await withClient(databaseUrl, async (c) => {
      const applied = await c.query<{ migration_name: string; finished_at: Date | null }>('SELECT migration_name, finished_at FROM _prisma_migrations');
      expect(applied.rows.map((r) => r.migration_name)).toEqual([expect.stringMatching(/^\d{14}_init$/)]);
      expect(applied.rows[0]!.finished_at).not.toBeNull();
      const columns = await c.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY column_name");
      expect(columns.rows.map((r) => r.column_name)).toEqual(['created_at', 'id', 'name', 'owner_user_id']);
    });
    // Nothing pending: the offline migrator agrees with itself on a second look.
    await mustRun(process.execPath, ['scripts/migrate.mjs', 'status'], { cwd: backend, env: appEnv({ DATABASE_URL: databaseUrl }) });
  });

  it("has a first migration that is exactly Prisma's diff of the schema (Prisma 6.19's offline engine)", async () => {
    // Prisma 7's CLI needs its engine download for `migrate diff`; 6.19's WebAssembly engine runs
    // offline as a throwaway checker (see docs/prisma-offline.md). It connects, writes nothing.
    const dir = tempDir('ovu-prisma6-');
    await mustRun('npm', ['init', '-y'], { cwd: dir, env: appEnv() });
    await mustRun('npm', ['install', '--no-audit', '--no-fund', 'prisma@6.19.3', '@prisma/adapter-pg@6.19.3'], { cwd: dir, env: appEnv() });
    fs.writeFileSync(
      path.join(dir, 'check.config.ts'),
      [
        "import { defineConfig } from 'prisma/config';",
        "import { PrismaPg } from '@prisma/adapter-pg';",
        "export default defineConfig({ experimental: { adapter: true }, engine: 'js', schema: 'check.prisma',",
        '  async adapter() { return new PrismaPg({ connectionString: process.env.DATABASE_URL }); } });',
      ].join('\n'),
    );
    const schema = fs.readFileSync(path.join(backend, 'prisma/schema.prisma'), 'utf8');
    // Prisma 6 wants a url in the datasource block; Prisma 7 schemas have none.
    fs.writeFileSync(path.join(dir, 'check.prisma'), schema.replace(/^( {2}provider = "postgresql")$/m, '$1\n  url      = env("DATABASE_URL")'));
    const expected = await mustRun(
      'npx',
      ['prisma', 'migrate', 'diff', '--config', 'check.config.ts', '--from-empty', '--to-schema-datamodel', 'check.prisma', '--script'],
      { cwd: dir, env: appEnv({ DATABASE_URL: adminUrl, PRISMA_CLIENT_ENGINE_TYPE: 'client', PRISMA_HIDE_UPDATE_MESSAGE: '1' }) },
    );
    const [migrationDir] = fs.readdirSync(path.join(backend, 'prisma/migrations')).filter((d) => d.endsWith('_init'));
    const committed = fs.readFileSync(path.join(backend, 'prisma/migrations', migrationDir!, 'migration.sql'), 'utf8');
    expect(committed.trim().length).toBeGreaterThan(50);
    expect(expected).toContain(committed.trim());
  });

  it('type-checks and builds', async () => {
    await mustRun('npm', ['run', 'typecheck'], { cwd: backend, env: appEnv() });
    await mustRun('npm', ['run', 'build'], { cwd: backend, env: appEnv() });
    expect(fs.existsSync(path.join(backend, 'dist/server.js'))).toBe(true);
  });

  it('passes its unit tests and its integration tests against PostgreSQL as its own login', async () => {
    const unit = await vitestCounts(backend, 'test');
    expect(unit.passed).toBeGreaterThan(10);
    expect(unit.failed).toBe(0);
    expect(unit.skipped).toBe(0);
    const integration = await vitestCounts(backend, 'test:integration', { DATABASE_URL: databaseUrl });
    expect(integration.passed).toBeGreaterThan(0);
    expect(integration.failed).toBe(0);
    expect(integration.skipped).toBe(0);
  });

  it('boots, reports its database, and serves items with owners from ULM', async () => {
    const { url, proc } = await boot(backend, { DATABASE_URL: databaseUrl, ULM_BASE_URL: ulm.url, ULM_SERVICE_TOKEN: 'svc-token' });
    try {
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok' });
      const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/health', '/items', expect.stringMatching(/^\/items\/\{\w+\}$/)]));

      const created = await fetch(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Widget', owner_user_id: 'u-1' }) });
      expect(created.status).toBe(201);
      const item = (await created.json()) as { id: number };
      const read = await fetch(`${url}/items/${item.id}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ item: { id: item.id, name: 'Widget', owner_user_id: 'u-1' }, owner: { id: 'u-1', email: 'ada@example.com' } });
      expect(ulm.authHeaders).toContain('Bearer svc-token');
      expect((await fetch(`${url}/items/999999`)).status).toBe(404);

      ulm.users.delete('u-1');
      expect((await fetch(`${url}/items/${item.id}`)).status).toBe(404);
    } finally {
      await stop(proc);
    }
    const down = await boot(backend, { DATABASE_URL: databaseUrl, ULM_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    try {
      const items = (await (await fetch(`${down.url}/items`)).json()) as { id: number }[];
      expect((await fetch(`${down.url}/items/${items[0]!.id}`)).status).toBe(503);
    } finally {
      await stop(down.proc);
    }
  });

  it('shapes the pg pool from the ADR settings', async () => {
    const script = [
      "const { readConfig } = await import('./dist/config.js');",
      "const { createDatabase } = await import('./dist/db.js');",
      'const db = createDatabase(readConfig().database);',
      'const o = db.pool.options;',
      'console.log(JSON.stringify({ max: o.max, timeout: o.connectionTimeoutMillis, user: o.user ?? new URL(o.connectionString).username }));',
      'await db.close();',
    ].join(' ');
    const out = await mustRun(process.execPath, ['--input-type=module', '-e', script], {
      cwd: backend,
      env: appEnv({ DATABASE_URL: databaseUrl, DB_POOL_SIZE: '7', DB_MAX_OVERFLOW: '3', DB_POOL_TIMEOUT: '11' }),
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ max: 10, timeout: 11_000, user: 'orders_user' });
  });
});

describe('generated readonly app (typescript)', () => {
  const backend = path.join(ws, 'lookup/backend');

  it('installs, type-checks, builds and passes its tests with no database at all', async () => {
    const r = await runCli(['lookup', '--stack', 'typescript', '--kind', 'readonly', '--yes', '--install', '--workspace', ws], { timeout: 600_000 });
    expect(r.exitCode).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(backend, 'package.json'), 'utf8'));
    expect(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => /prisma|^pg$/.test(d))).toEqual([]);
    expect(fs.readFileSync(path.join(backend, '.env'), 'utf8')).not.toMatch(/DATABASE_URL|DB_POOL/);
    await mustRun('npm', ['run', 'typecheck'], { cwd: backend, env: appEnv() });
    await mustRun('npm', ['run', 'build'], { cwd: backend, env: appEnv() });
    const counts = await vitestCounts(backend, 'test');
    expect(counts.passed).toBeGreaterThan(5);
    expect(counts.failed).toBe(0);
    expect(counts.skipped).toBe(0);
  });

  it('boots and reads users through ULM', async () => {
    ulm.users.set('u-2', { id: 'u-2', email: 'grace@example.com' });
    const { url, proc } = await boot(backend, { ULM_BASE_URL: ulm.url });
    try {
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).not.toHaveProperty('database', 'ok');
      expect(await (await fetch(`${url}/users/u-2`)).json()).toMatchObject({ email: 'grace@example.com' });
      expect((await fetch(`${url}/users/nobody`)).status).toBe(404);
    } finally {
      await stop(proc);
    }
  });
});
