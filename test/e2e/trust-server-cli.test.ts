/**
 * What the built CLI may do to a server, tried as a careless user and as an attacker would: no
 * terminal and no --yes, no --admin-url and no PG*, `--admin-url ""`, a shared server holding
 * another team's database, a login someone else can SET ROLE into, and PgBouncer in front of an app
 * made with --create-db (the real pgbouncer, Debian's 1.18). Its own PostgreSQL 17, never 5432.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPassword, runCli, snapshotDir, tempDir, type CliResult } from '../helpers/cli.ts';
import { freePort, startTestPostgres, urlFor, withClient, type TestPostgres } from '../helpers/postgres.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';

const PGBOUNCER = process.env.OVU_PGBOUNCER ?? '/usr/sbin/pgbouncer';
let pg: TestPostgres;
let adminUrl: string;
const ws = tempDir('ovu-trust-');
const sql = <T extends object>(text: string, params: unknown[] = []): Promise<T[]> => withClient(adminUrl, async (c) => (await c.query(text, params)).rows as T[]);
const publicCanConnect = async (db: string): Promise<boolean> => (await sql<{ ok: boolean }>("SELECT has_database_privilege('public', $1, 'CONNECT') AS ok", [db]))[0]!.ok;
const rolpassword = async (role: string): Promise<string> => (await sql<{ v: string }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [role]))[0]!.v;
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runCli([...args, '--workspace', ws], { env, timeout: 120_000 });

function oneLineError(r: CliResult, code: number): string {
  expect(r.exitCode, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  return lines[0]!;
}

/** The generated pgbouncer.ini and userlist.txt, pointed at the test server; returns the port it listens on. */
async function startBouncer(): Promise<{ port: number; stop: () => Promise<void>; log: () => string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-trust-bouncer-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const ini = fs
    .readFileSync(path.join(ws, 'pgbouncer', 'pgbouncer.ini'), 'utf8')
    .replace(/host=\S+ port=\d+/g, `host=${pg.host} port=${pg.port}`)
    .replace(/^listen_addr = .*$/m, 'listen_addr = 127.0.0.1')
    .replace(/^listen_port = .*$/m, `listen_port = ${port}`)
    .replace(/^auth_file = .*$/m, `auth_file = ${path.join(dir, 'userlist.txt')}`);
  fs.writeFileSync(path.join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
  fs.copyFileSync(path.join(ws, 'pgbouncer', 'userlist.txt'), path.join(dir, 'userlist.txt'));
  fs.chmodSync(path.join(dir, 'userlist.txt'), 0o644);
  let log = '';
  const child: ResultPromise = execa(PGBOUNCER, [...(process.getuid?.() === 0 ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], { reject: false, all: true });
  child.all?.on('data', (d: Buffer) => (log += d.toString()));
  // Until it listens (a bounded wait, not a timing assertion).
  for (let i = 0; i < 100 && !/process up/.test(log); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    port,
    log: () => log,
    stop: async () => {
      child.kill('SIGTERM');
      await child.catch(() => {});
    },
  };
}

/** Logs in through PgBouncer as the app: its user name, or the error. */
async function throughBouncer(port: number, user: string, password: string, db: string): Promise<string> {
  const url = urlFor(adminUrl, user, password, db).replace(`:${pg.port}/`, `:${port}/`);
  return withClient(url, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u as string).catch((e: Error) => `failed: ${e.message}`);
}

beforeAll(async () => {
  pg = await startTestPostgres({ major: 17 });
  adminUrl = pg.adminUrl;
  // A shared server: another team's database, open to PUBLIC as PostgreSQL makes it, and its login.
  await sql(`CREATE ROLE billing_user LOGIN PASSWORD 'billing-${'b'.repeat(32)}'`);
  await sql('CREATE DATABASE billing_db OWNER billing_user');
  await sql(`CREATE ROLE mallory LOGIN PASSWORD 'mallory-${'m'.repeat(32)}'`);
  await sql('CREATE DATABASE mallory_db OWNER mallory');
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  fs.rmSync(ws, { recursive: true, force: true });
});

describe('one verifier per role: --pgbouncer --create-db', () => {
  it('the app logs in through the generated PgBouncer; a server verifier with another salt is caught by doctor and mended by provision', async () => {
    const r = await cli(['inv', '--pgbouncer', '--create-db', '--yes', '--admin-url', adminUrl]);
    expect(r.exitCode, r.stderr).toBe(0);
    const password = appPassword(ws, 'inv')!;
    const stored = readEnvVar(fs.readFileSync(path.join(ws, 'ovu-db-init', 'verifiers', '.env'), 'utf8'), 'INV_DB_VERIFIER')!;
    expect(await rolpassword('inv_user')).toBe(stored);
    expect(fs.readFileSync(path.join(ws, 'pgbouncer', 'userlist.txt'), 'utf8')).toContain(`"inv_user" "${stored}"`);

    let bouncer = await startBouncer();
    try {
      expect(await throughBouncer(bouncer.port, 'inv_user', password, 'inv_db'), bouncer.log()).toBe('inv_user');
    } finally {
      await bouncer.stop();
    }

    // Same password, another salt on the server: PgBouncer's login fails, and doctor says why.
    await withClient(adminUrl, async (c) => {
      const { scramVerifier } = await import('../../src/database/scram.ts');
      await c.query(`ALTER ROLE inv_user PASSWORD ${c.escapeLiteral(scramVerifier(password))}`);
    });
    bouncer = await startBouncer();
    try {
      expect(await throughBouncer(bouncer.port, 'inv_user', password, 'inv_db')).toMatch(/^failed: /);
    } finally {
      await bouncer.stop();
    }
    const doctor = await cli(['doctor', '--json', '--admin-url', adminUrl]);
    const check = JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'app.inv.server-verifier');
    expect(check).toMatchObject({ status: 'failed' });
    expect(check.message).toContain('PgBouncer cannot log in');

    const mend = await cli(['provision', 'inv', '--yes', '--admin-url', adminUrl]);
    expect(mend.exitCode, mend.stderr).toBe(0);
    expect(mend.stderr).toContain("gave role inv_user the password verifier ovu-db-init/verifiers/.env and PgBouncer's userlist keep");
    expect(await rolpassword('inv_user')).toBe(stored);
    bouncer = await startBouncer();
    try {
      expect(await throughBouncer(bouncer.port, 'inv_user', password, 'inv_db'), bouncer.log()).toBe('inv_user');
    } finally {
      await bouncer.stop();
    }
  });

  it('--reset-password writes the new password into every place that keeps it: the server, .env, the userlist and backend/.env', async () => {
    const appEnv = path.join(ws, 'inv', '.env');
    const backendEnv = path.join(ws, 'inv', 'backend', '.env');
    const old = appPassword(ws, 'inv')!;
    expect(fs.readFileSync(backendEnv, 'utf8')).toContain(old);
    const next = 'N3w-'.padEnd(40, 'x');
    fs.writeFileSync(appEnv, fs.readFileSync(appEnv, 'utf8').replace(old, next));
    const refused = await cli(['provision', 'inv', '--yes', '--admin-url', adminUrl]);
    expect(oneLineError(refused, 1)).toContain('--reset-password');

    const r = await cli(['provision', 'inv', '--yes', '--reset-password', '--admin-url', adminUrl]);
    expect(r.exitCode, r.stderr).toBe(0);
    const stored = readEnvVar(fs.readFileSync(path.join(ws, 'ovu-db-init', 'verifiers', '.env'), 'utf8'), 'INV_DB_VERIFIER')!;
    expect(await rolpassword('inv_user')).toBe(stored);
    expect(fs.readFileSync(path.join(ws, 'pgbouncer', 'userlist.txt'), 'utf8')).toContain(`"inv_user" "${stored}"`);
    const backend = fs.readFileSync(backendEnv, 'utf8');
    expect(backend).not.toContain(old);
    expect(readEnvVar(backend, 'DATABASE_URL')).toContain(`:${next}@`);
    const bouncer = await startBouncer();
    try {
      expect(await throughBouncer(bouncer.port, 'inv_user', next, 'inv_db'), bouncer.log()).toBe('inv_user');
    } finally {
      await bouncer.stop();
    }
  });

  it('provision refuses a password new would refuse (@ : / #), before touching anything', async () => {
    const appEnv = path.join(ws, 'inv', '.env');
    const before = fs.readFileSync(appEnv, 'utf8');
    const current = appPassword(ws, 'inv')!;
    fs.writeFileSync(appEnv, before.replace(current, 'p@ss:w/rd#'.padEnd(40, 'z')));
    try {
      const snapshot = snapshotDir(ws);
      const line = oneLineError(await cli(['provision', 'inv', '--yes', '--admin-url', adminUrl]), 1);
      expect(line).toContain('has characters a URL must escape');
      expect(line).not.toContain('p@ss');
      expect(snapshotDir(ws)).toEqual(snapshot);
    } finally {
      fs.writeFileSync(appEnv, before);
    }
  });
});

describe('server-wide changes only with consent', () => {
  it("without a terminal and without --yes provision closes only the workspace's databases and says what it left and how to allow it", async () => {
    // The first app's --yes was consent, and closed it: open it again, as another team might.
    expect(await publicCanConnect('billing_db')).toBe(false);
    await sql('GRANT CONNECT, TEMPORARY ON DATABASE billing_db TO PUBLIC');
    const r = await cli(['shop', '--create-db', '--admin-url', adminUrl]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await publicCanConnect('billing_db')).toBe(true);
    expect(await publicCanConnect('shop_db')).toBe(false);
    expect(r.stderr).toMatch(/did not close [^\n]*billing_db \(owner billing_user\)[^\n]*server-wide[^\n]*--yes/);
    // provision, the same: no terminal, no --yes.
    const again = await cli(['provision', 'shop', '--admin-url', adminUrl]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/did not close [^\n]*billing_db \(owner billing_user\)[^\n]*--yes/);
    expect(await publicCanConnect('billing_db')).toBe(true);

    const dry = await cli(['provision', 'shop', '--yes', '--dry-run', '--admin-url', adminUrl]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout + dry.stderr).toContain('billing_db');
    expect(await publicCanConnect('billing_db')).toBe(true);

    const yes = await cli(['provision', 'shop', '--yes', '--admin-url', adminUrl]);
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stderr).toContain('revoked PUBLIC CONNECT, TEMPORARY on database billing_db');
    expect(await publicCanConnect('billing_db')).toBe(false);
  });

  it('doctor --fix names another team\'s database as server-wide with who loses access; without a terminal it needs --yes', async () => {
    await sql('GRANT CONNECT ON DATABASE billing_db TO PUBLIC');
    const dry = await cli(['doctor', '--fix', '--dry-run', '--json', '--admin-url', adminUrl]);
    const planned = JSON.parse(dry.stdout).fixes.planned.find((p: { id: string }) => p.id === 'server.public.billing_db');
    expect(planned.label).toMatch(/^revoke PUBLIC's CONNECT on billing_db \(server-wide: owned by billing_user, not by this workspace's apps\); loses access: .*\bmallory\b/);
    const refused = await cli(['doctor', '--fix', '--admin-url', adminUrl]);
    expect(oneLineError(refused, 2)).toContain('--yes');
    expect(await publicCanConnect('billing_db')).toBe(true);
    await sql('REVOKE CONNECT ON DATABASE billing_db FROM PUBLIC');
  });
});

describe('which server: named, recorded, never a silent localhost', () => {
  it('an empty --admin-url is an error for every command that takes it, and nothing is written', async () => {
    const snapshot = snapshotDir(ws);
    for (const args of [['provision', 'shop'], ['doctor'], ['doctor', '--fix', '--yes'], ['backup', 'shop'], ['restore', 'shop', path.join(ws, 'shop', '.env'), '--yes'], ['remove', 'shop', '--yes'], ['newapp', '--create-db', '--yes']]) {
      const line = oneLineError(await cli([...args, '--admin-url', '']), 2);
      expect(line, args.join(' ')).toMatch(/--admin-url is empty|--admin-url is not a valid/);
    }
    expect(snapshotDir(ws)).toEqual(snapshot);
  });

  it('provision records the server (no secret); doctor, backup and provision go there with only PGPASSWORD given', async () => {
    const record = readEnvVar(fs.readFileSync(path.join(ws, 'shop', '.env'), 'utf8'), 'OVU_DB_SERVER');
    expect(record).toBe(`postgresql://postgres@127.0.0.1:${pg.port}/postgres`);
    const env = { PGPASSWORD: pg.password };
    // Named before it is touched (a human run; --json prints only the result).
    const human = await cli(['doctor'], env);
    expect(human.stderr).toContain(`PostgreSQL server: 127.0.0.1:${pg.port}/postgres as postgres (the server inv was provisioned on)`);
    const doctor = await cli(['doctor', '--json'], env);
    const json = JSON.parse(doctor.stdout);
    expect(json.checks.find((c: { id: string }) => c.id === 'server.connect')).toMatchObject({ status: 'ok' });
    expect(json.checks.find((c: { id: string }) => c.id === 'app.shop.login')).toMatchObject({ status: 'ok' });
    const again = await cli(['provision', 'shop', '--yes'], env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain(`on 127.0.0.1:${pg.port}/postgres as postgres`);
  });

  it('an app never provisioned, no --admin-url and no PG*: provision, backup, restore and remove stop and say what to pass; doctor audits no server', async () => {
    expect((await cli(['plain', '--yes'])).exitCode).toBe(0);
    const snapshot = snapshotDir(ws);
    for (const args of [['provision', 'plain', '--yes'], ['backup', 'plain'], ['remove', 'plain', '--yes'], ['restore', 'plain', path.join(ws, 'plain', '.env'), '--yes']]) {
      const line = oneLineError(await cli(args), 2);
      expect(line, args.join(' ')).toContain('no PostgreSQL server named (plain has no record of the server it was provisioned on): pass --admin-url');
    }
    expect(snapshotDir(ws)).toEqual(snapshot);
    // doctor with only the never-provisioned app's record missing still audits where the others were provisioned.
    const doctor = await cli(['doctor', '--json'], { PGPASSWORD: pg.password });
    expect(JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'server.connect')).toMatchObject({ status: 'ok' });
  });

  it("the hint when the server is down names the workspace's database service", async () => {
    const other = tempDir('ovu-trust-db-');
    fs.writeFileSync(path.join(other, 'docker-compose.yml'), 'services:\n  db:\n    image: postgres:17\n    environment:\n      POSTGRES_PASSWORD: example\n');
    expect((await runCli(['cat', '--yes', '--workspace', other])).exitCode).toBe(0);
    const closed = await freePort();
    const line = oneLineError(await runCli(['provision', 'cat', '--yes', '--admin-url', `postgresql://postgres:x@127.0.0.1:${closed}/postgres`, '--workspace', other]), 1);
    expect(line).toBe(`error: cannot reach PostgreSQL at 127.0.0.1:${closed} (ECONNREFUSED); start it with \`docker compose up -d db\`, or pass --admin-url.`);
  });
});

describe('a login others can SET ROLE into', () => {
  it('provision refuses it naming the roles; --revoke-memberships ends it; doctor reports it', async () => {
    await sql('GRANT shop_user TO mallory');
    const asMallory = urlFor(adminUrl, 'mallory', `mallory-${'m'.repeat(32)}`, 'mallory_db');
    const canSetRole = (): Promise<boolean> => withClient(asMallory, (c) => c.query('SET ROLE shop_user').then(() => true, () => false));
    expect(await canSetRole()).toBe(true);

    const line = oneLineError(await cli(['provision', 'shop', '--yes', '--admin-url', adminUrl]), 1);
    expect(line).toContain('role shop_user');
    expect(line).toContain('mallory is a member of shop_user');
    expect(line).toContain('--revoke-memberships');
    expect(await canSetRole()).toBe(true);
    const doctor = await cli(['doctor', '--json', '--admin-url', adminUrl]);
    expect(JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'app.shop.memberships')).toMatchObject({ status: 'failed' });

    const r = await cli(['provision', 'shop', '--yes', '--revoke-memberships', '--admin-url', adminUrl]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('ended a membership of shop_user: REVOKE shop_user FROM mallory');
    expect(await canSetRole()).toBe(false);
  });
});
