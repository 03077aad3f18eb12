/**
 * The generated Python app as a product: installed from PyPI, migrated, tested and booted against a
 * real PostgreSQL 15 (the suite's embedded server, scram auth) and a stand-in ULM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adrWorkspace, runCli } from '../helpers/cli.ts';
import { freePort, mustRun, pytestCounts, startFakeUlm, waitForHttp, type FakeUlm } from '../helpers/apps.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';

const adminUrl = inject('adminUrl');
const ws = adrWorkspace();
let ulm: FakeUlm;

/** Env for running the app's tools: only what the app's own .env does not set. */
const appEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra });

async function boot(backend: string, env: NodeJS.ProcessEnv): Promise<{ url: string; proc: ResultPromise }> {
  const port = await freePort();
  const proc = execa(path.join(backend, '.venv/bin/uvicorn'), ['app.main:app', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: backend,
    env: appEnv(env),
    extendEnv: false,
    reject: false,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, 60_000, proc);
  return { url, proc };
}

beforeAll(async () => {
  ulm = await startFakeUlm();
  ulm.users.set('u-1', { id: 'u-1', email: 'ada@example.com', name: 'Ada' });
});
afterAll(async () => {
  await ulm.stop();
});

describe('generated crud app (python)', () => {
  const backend = path.join(ws, 'inventory/backend');

  it('is generated, installed, provisioned and migrated by one command', async () => {
    const r = await runCli(['inventory', '--yes', '--install', '--create-db', '--migrate', '--admin-url', adminUrl, '--workspace', ws], { timeout: 600_000 });
    expect(r.stderr).toMatch(/✔ Installing inventory's dependencies/);
    expect(r.stderr).toMatch(/✔ Running the first migration/);
    expect(r.exitCode).toBe(0);
    expect(fs.existsSync(path.join(backend, '.venv/bin/alembic'))).toBe(true);
    // Neither the admin password nor the app's appears in the output.
    const appPassword = readEnvVar(fs.readFileSync(path.join(ws, '.env'), 'utf8'), 'INVENTORY_DB_PASSWORD')!;
    expect(r.stdout + r.stderr).not.toContain(appPassword);
    expect(r.stdout + r.stderr).not.toContain(new URL(adminUrl).password);
  });

  it('follows the ADR: its own login and database, the pool settings reach the engine', async () => {
    const localEnv = fs.readFileSync(path.join(backend, '.env'), 'utf8');
    const url = new URL(readEnvVar(localEnv, 'DATABASE_URL')!);
    expect(url.username).toBe('inventory_user');
    expect(url.pathname).toBe('/inventory_db');
    const out = await mustRun(
      '.venv/bin/python',
      ['-c', 'from app.core.database import engine; p = engine.pool; print(engine.url.drivername, p.size(), p._max_overflow, p._timeout)'],
      { cwd: backend, env: appEnv({ DB_POOL_SIZE: '7', DB_MAX_OVERFLOW: '3', DB_POOL_TIMEOUT: '11' }) },
    );
    expect(out.trim().split('\n').pop()).toBe('postgresql+asyncpg 7 3 11');
    const sources = fs.readdirSync(path.join(backend, 'app'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    // Mentioned in docs as what not to do, but never in a connection string.
    for (const e of sources) expect(fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'), e.name).not.toMatch(/[/@=:]\s*ulm_db\b/);
  });

  it('has a reversible first migration that matches the models', async () => {
    await mustRun('.venv/bin/alembic', ['downgrade', 'base'], { cwd: backend, env: appEnv() });
    await mustRun('.venv/bin/alembic', ['upgrade', 'head'], { cwd: backend, env: appEnv() });
    const check = await mustRun('.venv/bin/alembic', ['check'], { cwd: backend, env: appEnv() });
    expect(check).toContain('No new upgrade operations detected');
    const current = await mustRun('.venv/bin/alembic', ['current'], { cwd: backend, env: appEnv() });
    expect(current).toMatch(/^001 \(head\)/m);
  });

  it("passes its own unit tests (SQLite) and integration tests (PostgreSQL, as the app's login)", async () => {
    const unit = pytestCounts(await mustRun('.venv/bin/pytest', ['-q', '-p', 'no:cacheprovider'], { cwd: backend, env: appEnv() }));
    expect(unit.passed).toBeGreaterThan(10);
    expect(unit.failed ?? 0).toBe(0);
    expect(unit.skipped ?? 0).toBe(0);
    const integration = pytestCounts(await mustRun('.venv/bin/pytest', ['-q', '-p', 'no:cacheprovider', '-m', 'integration'], { cwd: backend, env: appEnv() }));
    expect(integration.passed).toBeGreaterThanOrEqual(1);
    expect(integration.skipped ?? 0).toBe(0);
    expect(integration.failed ?? 0).toBe(0);
  });

  it('boots, reports its database, and serves items with owners from ULM', async () => {
    const { url, proc } = await boot(backend, { ULM_BASE_URL: ulm.url, ULM_SERVICE_TOKEN: 'svc-token' });
    try {
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok' });

      const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/health', '/items', '/items/{item_id}']));

      const created = await fetch(`${url}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Widget', owner_user_id: 'u-1' }),
      });
      expect(created.status).toBe(201);
      const item = (await created.json()) as { id: number; name: string };
      expect(item.name).toBe('Widget');

      const read = await fetch(`${url}/items/${item.id}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ item: { id: item.id, name: 'Widget', owner_user_id: 'u-1' }, owner: { id: 'u-1', email: 'ada@example.com' } });
      expect(ulm.authHeaders).toContain('Bearer svc-token');

      expect((await fetch(`${url}/items/999999`)).status).toBe(404);

      // ULM no longer knows the owner: a clear 404, not a 500.
      ulm.users.delete('u-1');
      const gone = await fetch(`${url}/items/${item.id}`);
      expect(gone.status).toBe(404);
      expect(JSON.stringify(await gone.json())).toContain('u-1');
    } finally {
      proc.kill();
      await proc;
    }
  });

  it('answers 503, not 500, when ULM is down', async () => {
    const deadUlm = `http://127.0.0.1:${await freePort()}`;
    const { url, proc } = await boot(backend, { ULM_BASE_URL: deadUlm });
    try {
      const items = (await (await fetch(`${url}/items`)).json()) as { id: number }[];
      expect(items.length).toBeGreaterThan(0);
      const r = await fetch(`${url}/items/${items[0]!.id}`);
      expect(r.status).toBe(503);
    } finally {
      proc.kill();
      await proc;
    }
  });
});

describe('generated readonly app (python)', () => {
  const backend = path.join(ws, 'catalog/backend');

  it('installs with no database dependencies or settings', async () => {
    const r = await runCli(['catalog', '--kind', 'readonly', '--yes', '--install', '--workspace', ws], { timeout: 600_000 });
    expect(r.exitCode).toBe(0);
    const localEnv = fs.readFileSync(path.join(backend, '.env'), 'utf8');
    expect(localEnv).not.toMatch(/DATABASE_URL|DB_POOL/);
    const out = await execa(path.join(backend, '.venv/bin/python'), ['-c', 'import sqlalchemy'], { reject: false });
    expect(out.exitCode).not.toBe(0);
    const settings = await mustRun('.venv/bin/python', ['-c', 'from app.core.config import settings; print(sorted(settings.model_dump()))'], { cwd: backend, env: appEnv() });
    expect(settings).not.toMatch(/DATABASE|DB_/);
  });

  it('passes its own tests', async () => {
    const counts = pytestCounts(await mustRun('.venv/bin/pytest', ['-q', '-p', 'no:cacheprovider'], { cwd: backend, env: appEnv() }));
    expect(counts.passed).toBeGreaterThan(5);
    expect(counts.failed ?? 0).toBe(0);
    expect(counts.skipped ?? 0).toBe(0);
  });

  it('boots and reads users through ULM', async () => {
    ulm.users.set('u-2', { id: 'u-2', email: 'grace@example.com' });
    const { url, proc } = await boot(backend, { ULM_BASE_URL: ulm.url });
    try {
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).not.toHaveProperty('database', 'ok');
      const user = await fetch(`${url}/users/u-2`);
      expect(user.status).toBe(200);
      expect(await user.json()).toMatchObject({ email: 'grace@example.com' });
      expect((await fetch(`${url}/users/nobody`)).status).toBe(404);
    } finally {
      proc.kill();
      await proc;
    }
  });
});
