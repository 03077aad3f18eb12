/**
 * doctor's server checks against a real PostgreSQL 15 (the suite's embedded server): two apps
 * provisioned as provision does it, their migration records as Alembic and Prisma's runner write
 * them, then one thing broken at a time; and an admin with only CREATEROLE and CREATEDB, for whom
 * a database it cannot close is a warning naming its owner's statement.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { provision } from '../../../src/database/provision.ts';
import { auditServer } from '../../../src/doctor/server-checks.ts';
import type { DoctorCheck } from '../../../src/doctor/check.ts';
import type { AuditedApp } from '../../../src/doctor/workspace-checks.ts';
import { scramVerifier } from '../../../src/database/scram.ts';
import { tempDir } from '../../helpers/cli.ts';
import { freshDbName, testAppSpec, urlFor, withClient } from '../../helpers/postgres.ts';
import { randomBytes } from 'node:crypto';

const adminUrl = inject('adminUrl');
const root = tempDir('ovu-doctor-server-');
const password = (): string => randomBytes(24).toString('hex');

function app(prefix: string, stack: 'python' | 'typescript'): AuditedApp {
  const spec = testAppSpec(freshDbName(prefix));
  spec.settings.stack = stack;
  const dir = spec.names.slug;
  const backendDir = path.join(root, dir, 'backend');
  if (stack === 'python') {
    const versions = path.join(backendDir, 'alembic', 'versions');
    fs.mkdirSync(versions, { recursive: true });
    fs.writeFileSync(path.join(versions, '1_initial.py'), 'revision: str = "aaa111"\ndown_revision: str | None = None\n');
  } else {
    fs.mkdirSync(path.join(backendDir, 'prisma', 'migrations', '20250101000000_init'), { recursive: true });
    fs.writeFileSync(path.join(backendDir, 'prisma', 'migrations', '20250101000000_init', 'migration.sql'), 'SELECT 1;\n');
  }
  return { dir, spec, password: password(), backendDir };
}

const py = app('dpy', 'python');
const ts = app('dts', 'typescript');
const apps = [py, ts];
const asApp = (a: AuditedApp) => urlFor(adminUrl, a.spec.names.user, a.password!, a.spec.names.db);

const byId = (checks: DoctorCheck[], id: string): DoctorCheck => {
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}: ${checks.map((x) => x.id).join(', ')}`);
  return c;
};
const ours = (checks: DoctorCheck[]) =>
  checks.filter((c) => apps.some((a) => c.id.startsWith(`app.${a.dir}.`) || c.id === `server.public.${a.spec.names.db}`) || c.id === 'server.connect');
const failedIds = (checks: DoctorCheck[]) => ours(checks).filter((c) => c.status !== 'ok').map((c) => c.id);
const audit = (url = adminUrl, list = apps) => auditServer(url, list, { root });

beforeAll(async () => {
  for (const a of apps) await provision(a.spec, { adminUrl, password: a.password! });
  // The records the apps' tools leave: Alembic's alembic_version, Prisma's _prisma_migrations.
  await withClient(asApp(py), async (c) => {
    await c.query('CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY)');
    await c.query("INSERT INTO alembic_version VALUES ('aaa111')");
  });
  await withClient(asApp(ts), async (c) => {
    await c.query(`CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
      logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
    await c.query("INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('1', 'x', now(), '20250101000000_init', 1)");
  });
});

afterAll(async () => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('doctor on the server', () => {
  it('every check of both apps holds, with the ids provision\'s verify gives', async () => {
    const checks = await audit();
    expect(failedIds(checks)).toEqual([]);
    for (const a of apps) {
      const other = a === py ? ts : py;
      for (const id of ['database', 'login', 'own-database', `refused.${other.spec.names.db}`, 'refused.postgres', 'refused.template1', 'superuser', 'createdb', 'createrole', 'replication-bypassrls', 'predefined-roles', 'connection-limit', 'timeouts', 'migrations']) {
        expect(byId(checks, `app.${a.dir}.${id}`).status).toBe('ok');
      }
    }
    expect(byId(checks, 'server.budget').status).toBe('ok');
    expect(byId(checks, `server.public.${py.spec.names.db}`).status).toBe('ok');
  });

  it('PUBLIC given CONNECT fails server.public with a REVOKE --fix can run, and the other login is no longer refused', async () => {
    const db = py.spec.names.db;
    await withClient(adminUrl, (c) => c.query(`GRANT CONNECT, CREATE ON DATABASE ${db} TO PUBLIC`));
    try {
      const checks = await audit();
      expect(failedIds(checks).sort()).toEqual([`app.${ts.dir}.refused.${db}`, `server.public.${db}`].sort());
      const repair = byId(checks, `server.public.${db}`).repair as { kind: 'sql'; label: string; sql: string; serverWide?: boolean };
      expect(repair.sql).toBe(`REVOKE CONNECT, CREATE ON DATABASE ${db} FROM PUBLIC`);
      // The app's own database: app-local, and the plan names who loses access (the other app's login).
      expect(repair.serverWide).toBeUndefined();
      expect(repair.label).toMatch(new RegExp(`^revoke PUBLIC's CONNECT, CREATE on ${db}; loses access: .*\\b${ts.spec.names.user}\\b`));
      await withClient(adminUrl, (c) => c.query(`REVOKE CONNECT, CREATE ON DATABASE ${db} FROM PUBLIC`));
      expect(failedIds(await audit())).toEqual([]);
    } finally {
      await withClient(adminUrl, (c) => c.query(`REVOKE CONNECT, CREATE ON DATABASE ${db} FROM PUBLIC`));
    }
  });

  it('a database only its owner can close is a warning, for an admin with CREATEROLE and CREATEDB', async () => {
    const ops = freshDbName('ops');
    const opsPw = password();
    const open = freshDbName('open');
    await withClient(adminUrl, async (c) => {
      await c.query(`CREATE ROLE ${ops} LOGIN CREATEROLE CREATEDB PASSWORD '${scramVerifier(opsPw)}'`);
      await c.query(`CREATE DATABASE ${open}`);
      // Where it connects: the hardened server lets it into no database it does not own.
      await c.query(`CREATE DATABASE ${ops} OWNER ${ops}`);
    });
    try {
      const checks = await audit(urlFor(adminUrl, ops, opsPw, ops));
      expect(byId(checks, 'server.connect').message).toContain(`admin ${ops}`);
      const check = byId(checks, `server.public.${open}`);
      expect(check.status).toBe('warning');
      expect(check.message).toContain(`only its owner ${new URL(adminUrl).username}`);
      expect(check.fix).toBe(`as ${new URL(adminUrl).username}: REVOKE CONNECT, TEMPORARY ON DATABASE ${open} FROM PUBLIC;`);
      expect(check.repair).toBeUndefined();
      // And the app logins reach it: provision's verify says so as a warning too.
      expect(byId(checks, `app.${py.dir}.refused.${open}`).status).toBe('warning');
    } finally {
      await withClient(adminUrl, async (c) => {
        await c.query(`DROP DATABASE ${open}`);
        await c.query(`DROP DATABASE ${ops}`);
        await c.query(`DROP ROLE ${ops}`);
      });
    }
  });

  it('a dangerous attribute, a connection limit over the budget and a wrong password each fail their check', async () => {
    const role = py.spec.names.user;
    await withClient(adminUrl, (c) => c.query(`ALTER ROLE ${role} CREATEDB`));
    expect(failedIds(await audit())).toEqual([`app.${py.dir}.createdb`]);
    await withClient(adminUrl, (c) => c.query(`ALTER ROLE ${role} NOCREATEDB CONNECTION LIMIT 500`));
    const over = await audit();
    expect(failedIds(over)).toEqual([`app.${py.dir}.connection-limit`]);
    expect(byId(over, 'server.budget')).toMatchObject({ status: 'failed', message: expect.stringContaining('connection budget exceeded') });
    await withClient(adminUrl, (c) => c.query(`ALTER ROLE ${role} CONNECTION LIMIT 4`));

    const wrong = await audit(adminUrl, [{ ...py, password: password() }, ts]);
    expect(byId(wrong, `app.${py.dir}.login`)).toMatchObject({ status: 'failed', message: `the password in ${py.dir}/.env does not log in as ${role}` });
    expect(byId(wrong, `app.${py.dir}.isolation`).status).toBe('skipped');
    expect(byId(wrong, `app.${py.dir}.migrations`).status).toBe('skipped');
    expect(failedIds(await audit())).toEqual([]);
  });

  it('migrations behind the files fail app.<app>.migrations, for Alembic and for Prisma', async () => {
    const versions = path.join(py.backendDir, 'alembic', 'versions');
    fs.writeFileSync(path.join(versions, '2_next.py'), 'revision = "bbb222"\ndown_revision = "aaa111"\n');
    const next = path.join(ts.backendDir, 'prisma', 'migrations', '20250202000000_next');
    fs.mkdirSync(next);
    fs.writeFileSync(path.join(next, 'migration.sql'), 'SELECT 2;\n');
    try {
      const checks = await audit();
      expect(failedIds(checks).sort()).toEqual([`app.${py.dir}.migrations`, `app.${ts.dir}.migrations`].sort());
      expect(byId(checks, `app.${py.dir}.migrations`).message).toBe(`${py.spec.names.db}: at aaa111, but the head in ${py.dir}/backend/alembic/versions is bbb222`);
      expect(byId(checks, `app.${ts.dir}.migrations`).message).toBe(`${ts.spec.names.db}: 1 of 2 not applied: 20250202000000_next`);
      await withClient(asApp(ts), (c) => c.query("INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('2', 'y', '20250202000000_next')"));
      expect(byId(await audit(), `app.${ts.dir}.migrations`).message).toBe(`${ts.spec.names.db}: migration 20250202000000_next failed and is not rolled back`);
      await withClient(asApp(ts), (c) => c.query("DELETE FROM _prisma_migrations WHERE id = '2'"));
    } finally {
      fs.rmSync(path.join(versions, '2_next.py'));
      fs.rmSync(next, { recursive: true });
    }
  });

  it('without a server, every server check is reported as not run', async () => {
    const checks = await audit('postgresql://postgres:x@127.0.0.1:1/postgres');
    expect(checks.every((c) => c.status === 'skipped')).toBe(true);
    expect(byId(checks, 'server.connect').message).toMatch(/^no server checked: cannot reach PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    expect(checks.map((c) => c.id)).toEqual(expect.arrayContaining([`app.${py.dir}.database`, `app.${py.dir}.login`, `app.${py.dir}.migrations`, 'server.public', 'server.budget']));
  });
});
