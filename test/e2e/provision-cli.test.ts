/**
 * `--create-db` and `provision` through the built CLI, against a real PostgreSQL 15 with
 * scram-sha-256 passwords (the suite's embedded server) that already hosts ULM the ADR's way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { adrWorkspace, runCli, type CliResult } from '../helpers/cli.ts';
import { canConnect, urlFor, withClient } from '../helpers/postgres.ts';
import { freePort } from '../helpers/apps.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';
import { expectResult } from '../helpers/result-schema.ts';

const adminUrl = inject('adminUrl');
const adminPassword = decodeURIComponent(new URL(adminUrl).password);
const tag = randomBytes(3).toString('hex');
const shop = `shop${tag}`;
const crm = `crm${tag}`;
const ws = adrWorkspace();
const ULM_PASSWORD = 'ulm-secret-pw';

const passwordOf = (app: string): string => readEnvVar(fs.readFileSync(path.join(ws, '.env'), 'utf8'), `${app.toUpperCase()}_DB_PASSWORD`)!;
const appUrl = (app: string, db: string): string => urlFor(adminUrl, `${app}_user`, passwordOf(app), db);

function expectNoSecrets(r: CliResult, ...secrets: string[]): void {
  for (const s of [adminPassword, ...secrets]) expect(r.stdout + r.stderr).not.toContain(s);
}

function expectOneLineError(r: CliResult, code: number, message: RegExp): void {
  expect(r.exitCode).toBe(code);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

beforeAll(async () => {
  // ULM as the ADR sets it up: its own database and login, granted the ADR's way.
  await withClient(adminUrl, async (c) => {
    const exists = await c.query(`SELECT 1 FROM pg_database WHERE datname = 'ulm_db'`);
    if (exists.rowCount === 0) {
      await c.query(`CREATE ROLE ulm_user LOGIN PASSWORD '${ULM_PASSWORD}'`);
      await c.query('CREATE DATABASE ulm_db');
      await c.query('GRANT ALL PRIVILEGES ON DATABASE ulm_db TO ulm_user');
    }
  });
});

describe('create-ovu-app --create-db and provision', () => {
  it('creates two apps, each in its own database owned by its login, and verifies it', async () => {
    for (const app of [shop, crm]) {
      const r = await runCli([app, '--yes', '--create-db', '--admin-url', adminUrl, '--workspace', ws]);
      expect(r.stderr).toMatch(new RegExp(`✔ Creating ${app}_db and ${app}_user on postgresql://.*:\\*\\*\\*@`));
      expect(r.stderr).toMatch(/✔ .*refused|✔ .*cannot connect|✔ .*CONNECT/i);
      expect(r.stderr).not.toMatch(/✖/);
      expect(r.exitCode).toBe(0);
      expectNoSecrets(r, passwordOf(app));
      const owner = await withClient(adminUrl, (c) =>
        c.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [`${app}_db`]),
      );
      expect(owner.rows[0]?.owner).toBe(`${app}_user`);
    }
  });

  it('lets each login into its own database only', async () => {
    for (const [app, other] of [[shop, crm], [crm, shop]] as const) {
      expect(await canConnect(appUrl(app, `${app}_db`))).toBe(true);
      for (const db of [`${other}_db`, 'ulm_db', 'postgres', 'template1']) {
        expect(await canConnect(appUrl(app, db)), `${app}_user → ${db}`).toBe('42501');
      }
      await withClient(appUrl(app, `${app}_db`), async (c) => {
        await c.query('CREATE TABLE probe (id int)');
        await c.query('DROP TABLE probe');
      });
    }
    expect(await canConnect(urlFor(adminUrl, 'ulm_user', ULM_PASSWORD, 'ulm_db'))).toBe(true);
  });

  it('is idempotent: provision again changes nothing and still verifies', async () => {
    const r = await runCli(['provision', shop, '--admin-url', adminUrl, '--workspace', ws, '--json']);
    expect(r.exitCode).toBe(0);
    const out = expectResult(r.stdout);
    expect(out).toMatchObject({ command: 'provision', ok: true, written: false, workspace: ws, app: { name: shop, database: `${shop}_db` }, steps: [{ id: 'provision', ok: true }] });
    expect(out.provision.migrated).toBe(false);
    expect(out.provision.changed).toEqual([]);
    expect(out.provision.created).toEqual({ role: false, database: false });
    expect(out.provision.verified.length).toBeGreaterThan(3);
    expect(out.provision.verified.every((v: { ok: boolean }) => v.ok)).toBe(true);
    expectNoSecrets(r, passwordOf(shop));

    const human = await runCli(['provision', shop, '--admin-url', adminUrl, '--workspace', ws]);
    expect(human.exitCode).toBe(0);
    expect(human.stderr).toContain('already in place, nothing changed');
  });

  it('--create-db --json reports the provisioning in the one result shape', async () => {
    const app = `js${tag}`;
    const r = await runCli([app, '--yes', '--create-db', '--json', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = expectResult(r.stdout);
    expect(out).toMatchObject({ command: 'new', ok: true, written: true, steps: [{ id: 'provision', ok: true }], provision: { created: { role: true, database: true }, migrated: false } });
    expectNoSecrets(r, passwordOf(app));
  });

  it('a provision that fails reports it in the one result shape, with nothing written', async () => {
    const port = await freePort();
    const r = await runCli(['provision', shop, '--json', '--admin-url', `postgresql://postgres:pw-y@127.0.0.1:${port}/postgres`, '--workspace', ws]);
    expect(r.exitCode).toBe(1);
    const out = expectResult(r.stdout);
    expect(out).toMatchObject({ command: 'provision', ok: false, written: false, steps: [{ id: 'provision', ok: false }], error: { exitCode: 1, message: expect.stringMatching(/cannot reach PostgreSQL/) } });
    expectNoSecrets(r, 'pw-y');
  });

  it('takes the admin connection from PG* variables', async () => {
    const u = new URL(adminUrl);
    const r = await runCli(['provision', crm, '--workspace', ws], {
      env: { PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGPASSWORD: adminPassword, PGDATABASE: 'postgres' },
    });
    expect(r.exitCode).toBe(0);
    expectNoSecrets(r, passwordOf(crm));
  });

  it('fails in one line, without the password, on a wrong admin password', async () => {
    const wrong = new URL(adminUrl);
    wrong.password = 'not-the-password';
    const r = await runCli(['provision', shop, '--admin-url', wrong.toString(), '--workspace', ws]);
    expectOneLineError(r, 1, /authentication failed/i);
    expectNoSecrets(r, 'not-the-password', passwordOf(shop));
  });

  it('fails in one line when the server is unreachable, naming host and port', async () => {
    const port = await freePort();
    const r = await runCli(['provision', shop, '--admin-url', `postgresql://postgres:pw-x@127.0.0.1:${port}/postgres`, '--workspace', ws]);
    expectOneLineError(r, 1, new RegExp(`127\\.0\\.0\\.1:${port}.*docker compose up -d postgres`));
    expectNoSecrets(r, 'pw-x');
  });

  it('keeps the generated files when --create-db fails, and prints the provision command', async () => {
    const port = await freePort();
    const app = `late${tag}`;
    const r = await runCli([app, '--yes', '--create-db', '--admin-url', `postgresql://postgres:pw@127.0.0.1:${port}/postgres`, '--workspace', ws]);
    expectOneLineError(r, 1, new RegExp(`files were written.*create-ovu-app provision ${app}`));
    expect(fs.existsSync(path.join(ws, app, 'backend/app/main.py'))).toBe(true);
    const retry = await runCli(['provision', app, '--admin-url', adminUrl, '--workspace', ws]);
    expect(retry.exitCode).toBe(0);
    expect(await canConnect(appUrl(app, `${app}_db`))).toBe(true);
  });

  it('refuses --migrate for an app whose dependencies are not installed, with exit 2, before creating anything', async () => {
    const app = `bare${tag}`;
    expect((await runCli([app, '--yes', '--workspace', ws])).exitCode).toBe(0);
    const r = await runCli(['provision', app, '--migrate', '--admin-url', adminUrl, '--workspace', ws], { env: { PATH: path.dirname(process.execPath) } });
    expectOneLineError(
      r,
      2,
      new RegExp(`${app}'s dependencies are not installed, so --migrate cannot run \\(drop it to provision only\\); install them with \`cd \\S+ && python3 -m venv \\.venv .*\`, then run: npx create-ovu-app provision ${app} --migrate --workspace \\S+ --admin-url postgresql://`),
    );
    expectNoSecrets(r, passwordOf(app));
    const db = await withClient(adminUrl, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [`${app}_db`]));
    expect(db.rowCount).toBe(0);
  });

  it('refuses a readonly app and an unknown app', async () => {
    expect((await runCli(['catalog', '--kind', 'readonly', '--yes', '--workspace', ws])).exitCode).toBe(0);
    expectOneLineError(await runCli(['provision', 'catalog', '--admin-url', adminUrl, '--workspace', ws]), 2, /readonly app/);
    expectOneLineError(await runCli(['provision', 'nosuchapp', '--admin-url', adminUrl, '--workspace', ws]), 1, /No app "nosuchapp"/);
  });
});
