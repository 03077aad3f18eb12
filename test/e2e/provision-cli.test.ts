/**
 * `--create-db` and `provision` through the built CLI, against a real PostgreSQL 15 with
 * scram-sha-256 passwords (the suite's embedded server) that already hosts ULM the ADR's way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { execa } from 'execa';
import { BIN, adrWorkspace, appPassword, runCli, RUNNER_RE, snapshotDir, type CliResult } from '../helpers/cli.ts';
import { verifierMatches } from '../../src/database/scram.ts';
import { canConnect, urlFor, withClient } from '../helpers/postgres.ts';
import { freePort } from '../helpers/apps.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';
import { expectResult } from '../helpers/result-schema.ts';

const adminUrl = inject('adminUrl');
const adminPassword = decodeURIComponent(new URL(adminUrl).password);
const tag = randomBytes(3).toString('hex');
const shop = `shop${tag}`;
const crm = `crm${tag}`;
const ws = adrWorkspace({ roomy: true });
const ULM_PASSWORD = 'ulm-secret-pw';

const passwordOf = (app: string): string => appPassword(ws, app)!;
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
      // The server is named (host:port/db as the admin), never its password.
      expect(r.stderr).toMatch(new RegExp(`✔ Creating ${app}_db and ${app}_user on 127\\.0\\.0\\.1:${new URL(adminUrl).port}/postgres as postgres`));
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
    expect(out.provision.verified.every((v: { status: string }) => v.status === 'ok')).toBe(true);
    expect(out.provision.connectionLimit).toBe(11);
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
    expectOneLineError(r, 1, new RegExp(`files were written.*${RUNNER_RE} provision ${app}`));
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
      new RegExp(`${app}'s dependencies are not installed, so --migrate cannot run \\(drop it to provision only\\); install them with \`cd \\S+ && python3 -m venv \\.venv .*\`, then run: ${RUNNER_RE} provision ${app} --migrate --workspace \\S+ --admin-url postgresql://`),
    );
    expectNoSecrets(r, passwordOf(app));
    const db = await withClient(adminUrl, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [`${app}_db`]));
    expect(db.rowCount).toBe(0);
  });

  it('ovu-db-init/verifiers/.env keeps each password\'s SCRAM-SHA-256 verifier, which init-db.sql reads; the password is only in the app\'s .env', () => {
    const env = fs.readFileSync(path.join(ws, 'ovu-db-init', 'verifiers', '.env'), 'utf8');
    const verifier = readEnvVar(env, `${shop.toUpperCase()}_DB_VERIFIER`)!;
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).not.toMatch(/_VERIFIER=/);
    expect(verifierMatches(passwordOf(shop), verifier)).toBe(true);
    expect(env).not.toContain(passwordOf(shop));
    const initDb = fs.readFileSync(path.join(ws, 'init-db.sql'), 'utf8');
    expect(initDb).toContain(`\\getenv ${shop}_db_verifier ${shop.toUpperCase()}_DB_VERIFIER`);
    expect(initDb).not.toContain(verifier);
    expect(initDb).not.toContain(passwordOf(shop));
  });

  it('provision writes a missing or stale verifier back into ovu-db-init/verifiers/.env (a workspace from before verifiers)', async () => {
    const envFile = path.join(ws, 'ovu-db-init', 'verifiers', '.env');
    const variable = `${crm.toUpperCase()}_DB_VERIFIER`;
    const original = fs.readFileSync(envFile, 'utf8');
    expect(readEnvVar(original, variable)).toMatch(/^SCRAM-SHA-256\$/);
    fs.writeFileSync(envFile, original.replace(new RegExp(`^${variable}=.*\\n`, 'm'), ''));
    const dry = await runCli(['provision', crm, '--dry-run', '--admin-url', adminUrl, '--workspace', ws]);
    expect(dry.stderr).toContain(`would add ${variable} to ovu-db-init/verifiers/.env (init-db.sql reads it)`);
    expect(readEnvVar(fs.readFileSync(envFile, 'utf8'), variable)).toBeUndefined();
    const r = await runCli(['provision', crm, '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`added ${variable} to ovu-db-init/verifiers/.env (init-db.sql reads it)`);
    const written = readEnvVar(fs.readFileSync(envFile, 'utf8'), variable)!;
    expect(verifierMatches(passwordOf(crm), written)).toBe(true);
    expectNoSecrets(r, passwordOf(crm), written);
  });

  it('provision --dry-run prints the SQL, hides the password, and changes nothing', async () => {
    const app = `dry${tag}`;
    expect((await runCli([app, '--yes', '--workspace', ws])).exitCode).toBe(0);
    const before = snapshotDir(ws);
    const r = await runCli(['provision', app, '--dry-run', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`CREATE ROLE "${app}_user" LOGIN PASSWORD '***' NOSUPERUSER`);
    expect(r.stdout).toContain(`CREATE DATABASE "${app}_db" OWNER "${app}_user" ALLOW_CONNECTIONS false`);
    expect(r.stdout).toContain(`ALTER ROLE "${app}_user" CONNECTION LIMIT 11`);
    expect(r.stdout).toMatch(/Server-wide changes/);
    expect(r.stdout).toContain('Dry run: nothing was changed on the server or in the workspace.');
    expect(r.stderr).toMatch(new RegExp(`backend/\\.env points at localhost:5432; provisioning would point its DATABASE_URL at 127\\.0\\.0\\.1:\\d+`));
    expectNoSecrets(r, passwordOf(app));
    expect(r.stdout + r.stderr).not.toMatch(/SCRAM-SHA-256\$\d+:[A-Za-z0-9+/]{8}/);
    expect(snapshotDir(ws)).toEqual(before);
    const role = await withClient(adminUrl, (c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${app}_user`]));
    expect(role.rowCount).toBe(0);

    // Then for real (--yes: no plan shown, no question): backend/.env now names the server it was provisioned on.
    const real = await runCli(['provision', app, '--yes', '--admin-url', adminUrl, '--workspace', ws]);
    expect(real.exitCode).toBe(0);
    const port = new URL(adminUrl).port;
    expect(real.stderr).toContain(`backend/.env: DATABASE_URL now points at 127.0.0.1:${port} (was localhost:5432)`);
    const backendEnv = fs.readFileSync(path.join(ws, app, 'backend', '.env'), 'utf8');
    expect(readEnvVar(backendEnv, 'DATABASE_URL')).toBe(`postgresql://${app}_user:${passwordOf(app)}@127.0.0.1:${port}/${app}_db`);
    expect(await canConnect(readEnvVar(backendEnv, 'DATABASE_URL')!)).toBe(true);
    expectNoSecrets(real, passwordOf(app));
  });

  it.each([
    ['postgres:Secret-pw-1@db.example:5432/postgres', /^error: --admin-url is not a valid postgresql:\/\/ URL: it must start with postgresql:\/\//],
    ['postgresql://postgres:Secret-pw-1%ZZ@127.0.0.1:5432/postgres', /^error: --admin-url is not a valid postgresql:\/\/ URL: it has a % not followed by two hex digits/],
  ])('a malformed admin URL (%s) is a one-line exit-2 error without the password', async (url, message) => {
    for (const args of [['provision', shop, '--admin-url', url, '--workspace', ws], [`bad${tag}`, '--yes', '--create-db', '--admin-url', url, '--workspace', ws]]) {
      const r = await runCli(args);
      expectOneLineError(r, 2, message);
      expect(r.stdout + r.stderr).not.toContain('Secret-pw-1');
      expect(r.stdout + r.stderr).not.toContain('db.example');
    }
    expect(fs.existsSync(path.join(ws, `bad${tag}`))).toBe(false);
  });

  it('refuses a placeholder or short password from .env, saying why', async () => {
    const app = `weak${tag}`;
    expect((await runCli([app, '--yes', '--workspace', ws])).exitCode).toBe(0);
    const envFile = path.join(ws, app, '.env');
    const original = fs.readFileSync(envFile, 'utf8');
    const variable = `${app.toUpperCase()}_DB_PASSWORD`;
    const password = passwordOf(app);
    try {
      for (const [value, why] of [
        ['change-me', `${variable} is the placeholder "change-me" (as in .env.example), not a password`],
        ['short-password', `${variable} is 14 characters long; it must have at least 32`],
      ] as const) {
        fs.writeFileSync(envFile, original.replace(`${variable}=${password}`, `${variable}=${value}`));
        const r = await runCli(['provision', app, '--admin-url', adminUrl, '--workspace', ws]);
        expect(r.stderr).toContain(why);
        expectOneLineError(r, 1, new RegExp(`^error: ${why.replace(/[.()]/g, '\\$&')} in `));
      }
    } finally {
      fs.writeFileSync(envFile, original);
    }
  });

  it('Ctrl-C while provisioning rolls back what that run created and exits 130', async () => {
    const app = `intr${tag}`;
    expect((await runCli([app, '--yes', '--workspace', ws])).exitCode).toBe(0);
    // A session on template1 makes CREATE DATABASE wait (up to 5 s): Ctrl-C lands during it.
    const result = await withClient(urlFor(adminUrl, 'postgres', adminPassword, 'template1'), async () => {
      // --verbose: the step's start line is printed at once (without a terminal there is no spinner).
      const child = execa(process.env.OVU_TEST_NODE ?? process.execPath, [BIN, 'provision', app, '--verbose', '--admin-url', adminUrl, '--workspace', ws], {
        env: { CI: 'true', NO_COLOR: '1' },
        reject: false,
        stdin: 'ignore',
        timeout: 30_000,
      });
      let stderr = '';
      await new Promise<void>((resolve) => {
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes(`… Creating ${app}_db`)) resolve();
        });
      });
      // The role is created within milliseconds; by now CREATE DATABASE waits for template1.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      child.kill('SIGINT');
      return child;
    });
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain(`Cancelled during provisioning of ${app}_db. (dropped what this run created: role ${app}_user)`);
    expectNoSecrets({ exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) }, passwordOf(app));
    const left = await withClient(adminUrl, (c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1 UNION ALL SELECT 1 FROM pg_database WHERE datname = $2', [`${app}_user`, `${app}_db`]));
    expect(left.rowCount).toBe(0);
  });

  it('refuses a tampered answers file that names another app', async () => {
    const file = path.join(ws, crm, '.ovu-app.json');
    const original = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, original.replace(`"name": "${crm}"`, `"name": "${shop}"`));
      const r = await runCli(['provision', crm, '--admin-url', adminUrl, '--workspace', ws]);
      expectOneLineError(r, 1, new RegExp(`names the app "${shop}", not "${crm}": restore it from git`));
    } finally {
      fs.writeFileSync(file, original);
    }
  });

  it('refuses an app whose compose service logs in as another app', async () => {
    const file = path.join(ws, crm, 'compose.yaml');
    const original = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, original.replace(`${crm}_user:`, `${shop}_user:`));
      const r = await runCli(['provision', crm, '--admin-url', adminUrl, '--workspace', ws]);
      expectOneLineError(r, 1, new RegExp(`${crm}/compose.yaml: ${crm}-backend's DATABASE_URL logs in as ${shop}_user to ${crm}_db, not ${crm}_user to ${crm}_db, which provision creates: restore it from git`));
    } finally {
      fs.writeFileSync(file, original);
    }
  });

  it('refuses a readonly app and an unknown app', async () => {
    expect((await runCli(['catalog', '--kind', 'readonly', '--yes', '--workspace', ws])).exitCode).toBe(0);
    expectOneLineError(await runCli(['provision', 'catalog', '--admin-url', adminUrl, '--workspace', ws]), 2, /readonly app/);
    expectOneLineError(await runCli(['provision', 'nosuchapp', '--admin-url', adminUrl, '--workspace', ws]), 1, /No app "nosuchapp"/);
  });
});
