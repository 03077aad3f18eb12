/**
 * backup, restore and remove through the built CLI, against the suite's real PostgreSQL 15
 * (scram-sha-256) with the real pg_dump and pg_restore, and the real Compose for the files left.
 *
 * The strongest check of remove: a workspace where two apps were generated and one then removed
 * is byte for byte the workspace as it was before that app was generated (its state directory and
 * the dumps aside).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, snapshotDir, tempDir, type CliResult } from '../helpers/cli.ts';
import { composeConfig, dockerCompose } from '../helpers/compose.ts';
import { canConnect, urlFor, urlToPsqlEnv, withClient } from '../helpers/postgres.ts';
import { expectResult } from '../helpers/result-schema.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';

const adminUrl = inject('adminUrl');
const adminPassword = decodeURIComponent(new URL(adminUrl).password);
const tag = randomBytes(3).toString('hex');
const inv = `inv${tag}`;
const ord = `ord${tag}`;
const ws = tempDir();
/** The workspace as it was with only `inv`, before `ord` was generated. */
const before = tempDir();

/** The app's password: its own .env, else the workspace .env (where 0.1 workspaces kept it). */
function passwordOf(app: string): string {
  const key = `${app.toUpperCase()}_DB_PASSWORD`;
  const read = (f: string): string | undefined => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
  return (readEnvVar(read(path.join(ws, app, '.env')), key) ?? readEnvVar(read(path.join(ws, '.env')), key))!;
}
const appUrl = (app: string): string => urlFor(adminUrl, `${app}_user`, passwordOf(app), `${app}_db`);
const sql = <T extends object>(url: string, text: string, params: unknown[] = []): Promise<T[]> => withClient(url, async (c) => (await c.query(text, params)).rows as T[]);

function expectOneLineError(r: CliResult, code: number, message: RegExp): void {
  expect(r.exitCode, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

function expectNoSecrets(r: CliResult, ...secrets: string[]): void {
  for (const s of [adminPassword, ...secrets]) expect(r.stdout + r.stderr).not.toContain(s);
}

/** The workspace's files, without create-ovu-app's state directory and the dumps. */
function workspaceFiles(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshotDir(dir)).filter(([p]) => !/^(\.create-ovu-app|backups)(\/|$)/.test(p)));
}

async function serverState(app: string) {
  const [row] = await sql<{ db: boolean; role: boolean; login: boolean | null; owner: string | null; public_open: boolean | null }>(
    adminUrl,
    `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1) AS db, EXISTS (SELECT FROM pg_roles WHERE rolname = $2) AS role,
            (SELECT rolcanlogin FROM pg_roles WHERE rolname = $2) AS login,
            (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1) AS owner,
            (SELECT has_database_privilege('public', oid, 'CONNECT') OR has_database_privilege('public', oid, 'TEMPORARY') FROM pg_database WHERE datname = $1) AS public_open`,
    [`${app}_db`, `${app}_user`],
  );
  return row!;
}

beforeAll(async () => {
  const one = await runCli([inv, '--yes', '--create-db', '--admin-url', adminUrl, '--workspace', ws]);
  expect(one.exitCode, one.stderr).toBe(0);
  fs.cpSync(ws, before, { recursive: true });
  const two = await runCli([ord, '--stack', 'typescript', '--yes', '--create-db', '--admin-url', adminUrl, '--workspace', ws]);
  expect(two.exitCode, two.stderr).toBe(0);
  // The app's own data, written as the app's login.
  await withClient(appUrl(ord), async (c) => {
    await c.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
    await c.query("INSERT INTO items VALUES (1, 'bolt'), (2, 'nut'), (3, 'washer')");
  });
});

describe('backup and restore', () => {
  let dump: string;
  let first: string;

  it('backup writes a pg_dump -Fc of the app database under backups/<app>/ and names it', async () => {
    const r = await runCli(['backup', ord, '--json', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoSecrets(r, passwordOf(ord));
    const json = expectResult(r.stdout);
    expect(json.command).toBe('backup');
    expect(json.backup.file).toMatch(new RegExp(`^backups/${ord}/${ord}_db-\\d{8}T\\d{6}Z\\.dump$`));
    dump = path.join(ws, json.backup.file);
    first = dump;
    expect(fs.statSync(dump).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(dump).subarray(0, 5).toString()).toBe('PGDMP');
    expect(fs.readFileSync(path.join(ws, '.gitignore'), 'utf8').split('\n')).toContain('/backups/');
    const text = await runCli(['backup', ord, '--admin-url', adminUrl, '--workspace', ws]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`backups/${ord}/${ord}_db-\\d{8}T\\d{6}Z(-2)?\\.dump: ${ord}_db at .* bytes, by pg_dump \\d+`));
    // A second dump in the same second does not replace the first.
    expect(fs.existsSync(first)).toBe(true);
  });

  it('--keep N deletes the oldest dumps beyond the newest N', async () => {
    const dir = path.join(ws, 'backups', ord);
    const old = path.join(dir, `${ord}_db-20200101T000000Z.dump`);
    fs.writeFileSync(old, 'old');
    const mine = path.join(dir, 'keep-me.dump');
    fs.writeFileSync(mine, 'not ours');
    const r = await runCli(['backup', ord, '--keep', '2', '--json', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const json = expectResult(r.stdout);
    expect(json.backup.pruned).toContain(`backups/${ord}/${ord}_db-20200101T000000Z.dump`);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(mine)).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(`${ord}_db-`))).toHaveLength(2);
    // The newest is always kept: the one this run wrote.
    expect(json.backup.pruned).not.toContain(json.backup.file);
    dump = path.join(ws, json.backup.file);
    expect(fs.existsSync(dump)).toBe(true);
    fs.rmSync(mine);
  });

  it('restore without --yes and no terminal exits 2 with one line and changes nothing', async () => {
    await sql(appUrl(ord), 'DELETE FROM items WHERE id = 3');
    const r = await runCli(['restore', ord, dump, '--admin-url', adminUrl, '--workspace', ws]);
    expectOneLineError(r, 2, /restore replaces what .* and there is no terminal to confirm it: run `.*--yes.*`/);
    expect(r.stderr).not.toContain(adminPassword);
    expect(await sql(appUrl(ord), 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 2 }]);
  });

  it('restore --dry-run names the tables it would replace with their row counts, and changes nothing', async () => {
    await sql(appUrl(ord), 'CREATE TABLE notes (t text)');
    const r = await runCli(['restore', ord, dump, '--dry-run', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/holds 1 table\(s\): public\.items/);
    expect(r.stdout).toMatch(/Replaced \(dropped, then created from the dump\):\n\s+public\.items\s+2 row\(s\) now/);
    expect(r.stdout).toMatch(/Left as they are \(not in the dump\): public\.notes \(0 row\(s\)\)/);
    expect(r.stdout).toMatch(/Runs, logged in as \S+_user .*pg_restore --clean --if-exists --no-owner --single-transaction/);
    expect(await sql(appUrl(ord), 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 2 }]);
  });

  it('restore --yes brings the rows back into the database, owned by the app login; the database keeps its owner and PUBLIC stays revoked', async () => {
    await sql(appUrl(ord), 'DROP TABLE items');
    const r = await runCli(['restore', ord, dump, '--yes', '--json', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoSecrets(r, passwordOf(ord));
    const json = expectResult(r.stdout);
    expect(json.restore.owner).toBe(`${ord}_user`);
    expect(json.restore.publicRevoked).toBe(true);
    expect(await sql(appUrl(ord), 'SELECT id, name FROM items ORDER BY id')).toEqual([
      { id: 1, name: 'bolt' },
      { id: 2, name: 'nut' },
      { id: 3, name: 'washer' },
    ]);
    expect(await sql(adminUrl.replace(/\/postgres$/, `/${ord}_db`), "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).toEqual([{ tableowner: `${ord}_user` }]);
    const s = await serverState(ord);
    expect(s.owner).toBe(`${ord}_user`);
    expect(s.public_open).toBe(false);
    // Still ADR-002: the other app's login cannot reach it.
    expect(await canConnect(urlFor(adminUrl, `${inv}_user`, passwordOf(inv), `${ord}_db`))).toBe('42501');
  });

  it('restore refuses a file that is not a dump, in one line', async () => {
    const bogus = path.join(ws, 'not-a-dump.dump');
    fs.writeFileSync(bogus, 'hello');
    const r = await runCli(['restore', ord, bogus, '--yes', '--admin-url', adminUrl, '--workspace', ws]);
    expectOneLineError(r, 1, /not-a-dump\.dump is not a pg_dump archive/);
    fs.rmSync(bogus);
  });
});

describe('the nightly ovu-backup service', () => {
  it('is in apps.compose.yaml under the backup profile, and its command, run against the server, dumps each app with retention', async () => {
    // A plain `config` (what `up` starts) leaves it out; --profile backup has it.
    expect(Object.keys((await composeConfig(ws)).services)).not.toContain('ovu-backup');
    const r = await execa(dockerCompose(), ['--profile', 'backup', 'config', '--format', 'json'], { cwd: ws, reject: false, env: { COMPOSE_PROJECT_NAME: 'ovu' } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const svc = (JSON.parse(String(r.stdout)) as { services: Record<string, any> }).services['ovu-backup'];
    expect(svc.profiles).toEqual(['backup']);
    expect(Object.entries(svc.environment).filter(([k]) => k.startsWith('OVU_BACKUP_APP_'))).toEqual(
      [inv, ord].sort().map((a) => [`OVU_BACKUP_APP_${a.toUpperCase()}`, `${a}:${a}_db`]),
    );
    const mount = (svc.volumes as { source: string; target: string }[]).find((v) => v.target === '/backups')!;
    expect(mount.source).toBe(path.join(ws, 'backups'));

    // Older dumps of inv, by the same names: with OVU_BACKUP_KEEP=2 only the newest old one stays.
    const dir = path.join(ws, 'backups', inv);
    fs.mkdirSync(dir, { recursive: true });
    const olds = ['20200101T030000Z', '20200102T030000Z', '20200103T030000Z'].map((t) => path.join(dir, `${inv}_db-${t}.dump`));
    for (const f of olds) fs.writeFileSync(f, 'old');
    const [sh, flag, script] = svc.command as string[];
    const env = Object.fromEntries(Object.entries(svc.environment as Record<string, string>).map(([k, v]) => [k, String(v).replace(/\$\$/g, '$')]));
    const run = await execa(sh!, [flag!, script!.replace(/\$\$/g, '$')], {
      env: { PATH: process.env.PATH, ...env, ...urlToPsqlEnv(adminUrl), PGDATABASE: 'postgres', OVU_BACKUP_DIR: mount.source, OVU_BACKUP_NOW: '1', OVU_BACKUP_KEEP: '2' },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toMatch(new RegExp(`ovu-backup: .*/backups/${ord}/${ord}_db-\\d{8}T\\d{6}Z\\.dump`));
    const left = fs.readdirSync(dir).sort();
    expect(left).toHaveLength(2);
    expect(left[0]).toBe(path.basename(olds[2]!));
    expect(left[1]).toMatch(new RegExp(`^${inv}_db-20\\d{6}T\\d{6}Z\\.dump$`));
    expect(fs.statSync(path.join(dir, left[1]!)).mode & 0o777).toBe(0o600);
    const made = fs.readdirSync(path.join(ws, 'backups', ord)).filter((f) => !f.includes('2020')).sort().at(-1)!;
    const listed = await execa('pg_restore', ['--list', path.join(ws, 'backups', ord, made)], { reject: false });
    expect(String(listed.stdout)).toMatch(/TABLE public items/);
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  });
});

describe('remove', () => {
  it('--dry-run shows the dump, every statement and every file change, and changes nothing', async () => {
    const files = snapshotDir(ws);
    const r = await runCli(['remove', ord, '--dry-run', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ALTER ROLE "${ord}_user" NOLOGIN;`);
    expect(r.stdout).toMatch(new RegExp(`pg_dump --format=custom --file=\\S+/backups/${ord}/${ord}_db-\\d{8}T\\d{6}Z\\.dump`));
    expect(r.stdout).toContain(`DROP DATABASE IF EXISTS "${ord}_db" WITH (FORCE);`);
    expect(r.stdout).toContain(`DROP ROLE IF EXISTS "${ord}_user";`);
    expect(r.stdout).toMatch(new RegExp(`move ${ord}/ → \\.create-ovu-app/removed/${ord}-\\d{8}T\\d{6}Z/`));
    expect(r.stdout).toMatch(/change apps\.compose\.yaml\n(\s+change deploy\/k8s\/\S+\n)*\s+change init-db\.sql/);
    expectNoSecrets(r, passwordOf(ord));
    expect(snapshotDir(ws)).toEqual(files);
    expect(await serverState(ord)).toMatchObject({ db: true, role: true, login: true });
  });

  it('without --yes and no terminal exits 2 with one line and changes nothing', async () => {
    const files = snapshotDir(ws);
    const r = await runCli(['remove', ord, '--admin-url', adminUrl, '--workspace', ws]);
    expectOneLineError(r, 2, /remove deletes .* and drops .* and there is no terminal to confirm it: run `.*remove .* --yes/);
    expect(snapshotDir(ws)).toEqual(files);
    expect(await serverState(ord)).toMatchObject({ db: true, role: true, login: true });
  });

  it('--yes dumps the database, drops it and its login, and leaves the workspace as if the app had never been generated', async () => {
    const password = passwordOf(ord);
    const r = await runCli(['remove', ord, '--yes', '--json', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoSecrets(r, password);
    const json = expectResult(r.stdout);
    expect(json.command).toBe('remove');
    expect(json.remove.dropped).toEqual([`dropped database ${ord}_db`, `dropped role ${ord}_user`]);
    expect(await serverState(ord)).toMatchObject({ db: false, role: false });

    // Byte for byte the workspace before the app was generated (the dumps and the state aside).
    expect(workspaceFiles(ws)).toEqual(workspaceFiles(before));
    // The directory is kept aside, ignored by git through the state directory's own .gitignore.
    const moved = path.join(ws, json.remove.movedTo);
    expect(json.remove.movedTo).toMatch(new RegExp(`^\\.create-ovu-app/removed/${ord}-\\d{8}T\\d{6}Z$`));
    expect(fs.existsSync(path.join(moved, '.ovu-app.json'))).toBe(true);
    expect(fs.readFileSync(path.join(ws, '.create-ovu-app', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    // Compose still reads the project, and ovu-db-init no longer knows the app.
    const config = await composeConfig(ws);
    expect(Object.keys(config.services)).not.toContain(`${ord}`);
    expect(JSON.stringify(config.services['ovu-db-init'].environment)).not.toContain(ord.toUpperCase());

    // The dump is whole and restores: into a scratch database, as the admin.
    const dumpFile = path.join(ws, json.remove.dump.file);
    expect(fs.statSync(dumpFile).mode & 0o777).toBe(0o600);
    const scratch = `scratch_${tag}`;
    await sql(adminUrl, `CREATE DATABASE ${scratch}`);
    const restored = await execa('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${scratch}`, dumpFile], {
      env: { ...urlToPsqlEnv(adminUrl), PGDATABASE: scratch },
      reject: false,
    });
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(await sql(adminUrl.replace(/\/postgres$/, `/${scratch}`), 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 3 }]);
    await sql(adminUrl, `DROP DATABASE ${scratch}`);
  });

  it('the last app out leaves a workspace Compose still reads, without init-db.sql', async () => {
    const r = await runCli(['remove', inv, '--yes', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Removed ${inv} from .*\\n\\s+dump of ${inv}_db: \\S+\\.dump`));
    expect(fs.existsSync(path.join(ws, 'init-db.sql'))).toBe(false);
    expect(fs.existsSync(path.join(ws, inv))).toBe(false);
    const env = fs.readFileSync(path.join(ws, '.env'), 'utf8');
    expect(env).not.toMatch(new RegExp(inv.toUpperCase()));
    expect(env).toMatch(/^ULM_SERVICE_TOKEN=$/m);
    await composeConfig(ws);
    expect(await serverState(inv)).toMatchObject({ db: false, role: false });
  });

  it('a readonly app goes without a server; an app that is not there is a one-line error', async () => {
    const ro = `ro${tag}`;
    const made = await runCli([ro, '--kind', 'readonly', '--yes', '--workspace', ws]);
    expect(made.exitCode, made.stderr).toBe(0);
    // No server is reached: an admin URL that leads nowhere does not matter.
    const r = await runCli(['remove', ro, '--yes', '--admin-url', 'postgresql://nobody:x@127.0.0.1:1/postgres', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(ws, ro))).toBe(false);
    const again = await runCli(['remove', ro, '--yes', '--workspace', ws]);
    expectOneLineError(again, 1, new RegExp(`No app "${ro}"`));
  });
});
