/**
 * --pgbouncer with the real parts: the CLI writes the workspace, real Docker Compose resolves it,
 * its ovu-db-init runs against a real PostgreSQL 15, the real pgbouncer (Debian's, 1.18; .ci/run
 * installs it) runs with the generated pgbouncer.ini (only host, ports and paths changed for the
 * test) and userlist.txt, and the generated app's own engine settings (app/core/database.py, with
 * SQLAlchemy and asyncpg from PyPI) send 200 concurrent transactions through it from 50 client
 * connections. The server sees at most the pool PgBouncer was given; without DB_PGBOUNCER the same
 * load fails (the server-side deadlines sent at connect, the prepared statements), which is what the
 * setting is for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPassword, runCli, tempDir } from '../helpers/cli.ts';
import { freePort, startTestPostgres, urlFor, withClient, type TestPostgres } from '../helpers/postgres.ts';
import { composeConfig, runDbInit } from '../helpers/compose.ts';
import { deriveNames } from '../../src/app/names.ts';

const PGBOUNCER = process.env.OVU_PGBOUNCER ?? '/usr/sbin/pgbouncer';
const names = deriveNames('inventory');
const orders = deriveNames('orders');
let ordersPassword = '';

let pg: TestPostgres;
const ws = tempDir();
let bouncer: ResultPromise | undefined;
let bouncerPort = 0;
let bouncerLog = '';
let venv = '';
let password = '';

const LOAD = `
import asyncio, json, os, sys
sys.path.insert(0, os.environ["BACKEND"])
from sqlalchemy import text
from app.core import database as d

async def one(i, errors, peak):
    try:
        async with d.SessionLocal() as s:
            async with s.begin():
                peak[0] = max(peak[0], d.engine.pool.checkedout())
                await s.execute(text("INSERT INTO hits (n) VALUES (:n)"), {"n": i})
                await s.execute(text("SELECT pg_sleep(0.02)"))
                r = await s.execute(text("SELECT count(*) FROM hits WHERE n <= :n"), {"n": i})
                r.scalar_one()
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}"[:300])

async def main():
    errors, peak = [], [0]
    await asyncio.gather(*(one(i, errors, peak) for i in range(200)))
    await d.engine.dispose()
    print(json.dumps({"errors": errors, "peak_clients": peak[0]}))

asyncio.run(main())
`;

/** Runs `work` while sampling the server-side connections of `user`; returns its result and their peak. */
async function watched<T>(user: string, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let running = true;
  const watch = withClient(pg.adminUrl, async (c) => {
    while (running) {
      const n = (await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [user])).rows[0].n as number;
      peak = Math.max(peak, n);
    }
  });
  try {
    return { result: await work(), peak };
  } finally {
    running = false;
    await watch;
  }
}

async function load(pgbouncerMode: boolean): Promise<{ errors: string[]; peak_clients: number; server_peak: number }> {
  const { result, peak } = await watched(names.user, () => loadPython(pgbouncerMode));
  return { ...result, server_peak: peak };
}

async function loadPython(pgbouncerMode: boolean): Promise<{ errors: string[]; peak_clients: number }> {
    const r = await execa(path.join(venv, 'bin', 'python'), ['-c', LOAD], {
      env: {
        BACKEND: path.join(ws, 'inventory', 'backend'),
        DATABASE_URL: `postgresql://${names.user}:${password}@127.0.0.1:${bouncerPort}/${names.db}`,
        DB_PGBOUNCER: pgbouncerMode ? 'true' : 'false',
        // 50 client connections to PgBouncer (the app's pool, sized up for the test).
        DB_POOL_SIZE: '25',
        DB_MAX_OVERFLOW: '25',
        DB_POOL_TIMEOUT: '60',
      },
      extendEnv: true,
      reject: false,
      timeout: 120_000,
    });
    expect(r.exitCode, r.stderr + bouncerLog).toBe(0);
    return JSON.parse(String(r.stdout).trim().split('\n').pop()!);
}

beforeAll(async () => {
  pg = await startTestPostgres();
  for (const args of [['inventory'], ['orders', '--stack', 'typescript']]) {
    const r = await runCli([...args, '--pgbouncer', '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
  const project = await composeConfig(ws);
  const init = await runDbInit(project.services['ovu-db-init'], pg.adminUrl);
  expect(init.exitCode, init.stderr).toBe(0);
  password = appPassword(ws, names.slug)!;
  await withClient(urlFor(pg.adminUrl, names.user, password, names.db), (c) => c.query('CREATE TABLE hits (id serial PRIMARY KEY, n int NOT NULL)'));
  ordersPassword = appPassword(ws, orders.slug)!;
  await withClient(urlFor(pg.adminUrl, orders.user, ordersPassword, orders.db), (c) => c.query('CREATE TABLE hits (id serial PRIMARY KEY, n int NOT NULL)'));

  // pgbouncer will not run as root: it runs as postgres, which must read its files.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-pgbouncer-'));
  fs.chmodSync(dir, 0o755);
  bouncerPort = await freePort();
  const ini = fs
    .readFileSync(path.join(ws, 'pgbouncer', 'pgbouncer.ini'), 'utf8')
    .replace(/host=postgres port=5432/g, `host=${pg.host} port=${pg.port}`)
    .replace(/^listen_addr = .*$/m, 'listen_addr = 127.0.0.1')
    .replace(/^listen_port = .*$/m, `listen_port = ${bouncerPort}`)
    .replace(/^auth_file = .*$/m, `auth_file = ${path.join(dir, 'userlist.txt')}`);
  fs.writeFileSync(path.join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
  fs.copyFileSync(path.join(ws, 'pgbouncer', 'userlist.txt'), path.join(dir, 'userlist.txt'));
  fs.chmodSync(path.join(dir, 'userlist.txt'), 0o644);
  bouncer = execa(PGBOUNCER, [...(process.getuid?.() === 0 ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], { reject: false, all: true });
  bouncer.all?.on('data', (d: Buffer) => (bouncerLog += d.toString()));
  // Bounded wait until it accepts a login (not a timing assertion).
  const through = urlFor(pg.adminUrl, names.user, password, names.db).replace(`:${pg.port}/`, `:${bouncerPort}/`);
  let last = '';
  for (let i = 0; i < 100; i++) {
    last = await withClient(through, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u as string).catch((e: Error) => e.message);
    if (last === names.user) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(last, bouncerLog).toBe(names.user);

  venv = path.join(fs.mkdtempSync(path.join(process.env.OVU_TEST_TMP ?? os.tmpdir(), 'ovu-venv-')), 'venv');
  await execa('python3', ['-m', 'venv', venv]);
  // The generated app's database dependencies, as its pyproject.toml bounds them.
  const pip = await execa(path.join(venv, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', 'sqlalchemy[asyncio]>=2.0.36,<3', 'asyncpg>=0.30,<1.0', 'pydantic-settings>=2.4,<3', 'fastapi>=0.115,<1.0'], { reject: false });
  expect(pip.exitCode, String(pip.stderr)).toBe(0);
}, 300_000);

afterAll(async () => {
  bouncer?.kill('SIGTERM');
  await bouncer?.catch(() => {});
  await pg?.stop();
});

describe('--pgbouncer with the real pgbouncer', () => {
  it("the app's DATABASE_URL goes through ovu-pgbouncer; its login's CONNECTION LIMIT is PgBouncer's pool + 1", async () => {
    const project = await composeConfig(ws);
    const env = project.services['inventory-backend'].environment;
    expect(env.DATABASE_URL).toBe(`postgresql://${names.user}:${password}@ovu-pgbouncer:6432/${names.db}`);
    expect(env.DB_PGBOUNCER).toBe('true');
    expect(project.services['ovu-pgbouncer'].depends_on['ovu-db-init'].condition).toBe('service_completed_successfully');
    const ini = fs.readFileSync(path.join(ws, 'pgbouncer', 'pgbouncer.ini'), 'utf8');
    expect(ini).toMatch(/^pool_mode = transaction$/m);
    expect(ini).toContain(`${names.db} = host=postgres port=5432 dbname=${names.db} pool_size=10 max_db_connections=10`);
    const limit = await withClient(pg.adminUrl, async (c) => (await c.query('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', [names.user])).rows[0].rolconnlimit);
    expect(limit).toBe(11);
  });

  it('200 concurrent transactions from 50 client connections: no error, and the server never sees more than the pool of 10', async () => {
    const r = await load(true);
    expect(r.errors).toEqual([]);
    expect(r.peak_clients).toBeGreaterThan(10);
    expect(r.server_peak).toBeGreaterThan(0);
    expect(r.server_peak).toBeLessThanOrEqual(10);
    const hits = await withClient(urlFor(pg.adminUrl, names.user, password, names.db), async (c) => (await c.query('SELECT count(*)::int AS n FROM hits')).rows[0].n);
    expect(hits).toBe(200);
    console.log(`pgbouncer load: ${r.peak_clients} client connections at once, at most ${r.server_peak} server connections, 0 errors`);
  }, 180_000);

  it('without DB_PGBOUNCER (server timeouts sent at connect, statement caches on) the same load fails: the setting is what makes it work', async () => {
    const r = await load(false);
    expect(r.errors.length).toBeGreaterThan(0);
    // PgBouncer refuses the server-side deadlines as startup parameters before any statement is
    // prepared; DB_PGBOUNCER drops both those and the statement caches.
    expect(r.errors.join('\n')).toMatch(/unsupported startup parameter: statement_timeout|prepared statement/i);
    console.log(`without DB_PGBOUNCER: ${r.errors.length} of 200 failed, e.g. ${r.errors[0]}`);
  }, 180_000);

  it("TypeScript: node-postgres (what @prisma/adapter-pg runs on) with the app's DATABASE_URL (?pgbouncer=true) and 50 clients: no error, at most the pool", async () => {
    const project = await composeConfig(ws);
    const url = String(project.services['orders-backend'].environment.DATABASE_URL);
    expect(url).toBe(`postgresql://${orders.user}:${ordersPassword}@ovu-pgbouncer:6432/${orders.db}?pgbouncer=true`);
    const { default: pgLib } = await import('pg');
    const pool = new pgLib.Pool({ connectionString: url.replace('@ovu-pgbouncer:6432/', `@127.0.0.1:${bouncerPort}/`), max: 50 });
    const errors: string[] = [];
    const { peak } = await watched(orders.user, () =>
      Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('INSERT INTO hits (n) VALUES ($1)', [i]);
            await c.query('SELECT pg_sleep(0.02)');
            await c.query('SELECT count(*) FROM hits WHERE n <= $1', [i]);
            await c.query('COMMIT');
          } catch (e) {
            errors.push((e as Error).message);
          } finally {
            c.release();
          }
        }),
      ),
    );
    await pool.end();
    expect(errors).toEqual([]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(10);
    console.log(`pgbouncer load (node-postgres): 50 clients, at most ${peak} server connections, 0 errors`);
  }, 180_000);
});
