/**
 * init-db.sql against a real PostgreSQL 15 with the real psql, run the way the ovu-db-init service
 * runs it: `psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc -f init-db.sql`, as the superuser,
 * connected to `postgres`, with each app's SCRAM-SHA-256 verifier in the environment (and, where
 * said, the way the postgres image's entrypoint runs it: without `-v ovu_db_init=1` and without the
 * app variables). The server is shared by the whole run, so every test uses fresh names.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { editInitDb } from '../../src/workspace/init-db.ts';
import { provision } from '../../src/database/provision.ts';
import { scramVerifier } from '../../src/database/scram.ts';
import { initDbEnvVars } from '../../src/app/names.ts';
import type { AppSpec } from '../../src/app/spec.ts';
import {
  canConnect,
  freshDbName,
  runPsqlFile,
  testAppSpec,
  trickyPassword,
  urlFor,
  withClient,
} from '../helpers/postgres.ts';

const adminUrl = inject('adminUrl');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ovu-initdb-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeSql(name: string, text: string): Promise<string> {
  const file = join(dir, `${name}-${randomBytes(3).toString('hex')}.sql`);
  await writeFile(file, text);
  return file;
}

/** The ADR-002 ULM section, verbatim apart from the names (the server is shared): not idempotent. */
function adrUlmSection(ulm: string): string {
  return `-- Create databases
CREATE DATABASE ${ulm}_db;

-- Create users
CREATE USER ${ulm}_user WITH PASSWORD '${ulm}_pass';

-- Grant permissions
GRANT ALL PRIVILEGES ON DATABASE ${ulm}_db TO ${ulm}_user;

-- Connect to each DB and grant schema permissions
\\c ${ulm}_db
GRANT ALL ON SCHEMA public TO ${ulm}_user;
`;
}

/** The same ULM section written to be idempotent (still ending connected to the ULM database). */
function idempotentUlmSection(ulm: string): string {
  return `-- ULM (idempotent variant)
SELECT 'CREATE DATABASE ${ulm}_db' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${ulm}_db') \\gexec
SELECT 'CREATE USER ${ulm}_user WITH PASSWORD ''${ulm}_pass''' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ulm}_user') \\gexec
GRANT ALL PRIVILEGES ON DATABASE ${ulm}_db TO ${ulm}_user;
\\c ${ulm}_db
GRANT ALL ON SCHEMA public TO ${ulm}_user;
`;
}

function withApps(source: string, ...specs: AppSpec[]): string {
  let text = source;
  for (const spec of specs) text = editInitDb(text, spec, { force: false }).text;
  return text;
}

interface App {
  spec: AppSpec;
  password: string;
}

function freshApp(prefix: string): App {
  return { spec: testAppSpec(freshDbName(prefix)), password: trickyPassword() };
}

/** What ovu-db-init gets: exactly the variables initDbEnvVars names, here the verifiers. */
function envOf(...apps: App[]): NodeJS.ProcessEnv {
  return Object.fromEntries(
    apps.flatMap((a) => {
      expect(initDbEnvVars(a.spec.names)).toEqual([a.spec.names.verifierVar]);
      return [[a.spec.names.verifierVar, scramVerifier(a.password)]];
    }),
  );
}

/** Creates a table as `user` in `db`: proves login + CREATE in public. */
async function createsTable(user: string, password: string, db: string): Promise<true | string> {
  try {
    await withClient(urlFor(adminUrl, user, password, db), async (c) => {
      await c.query('CREATE TABLE IF NOT EXISTS ovu_probe (id integer)');
      await c.query('INSERT INTO ovu_probe VALUES (1)');
    });
    return true;
  } catch (error) {
    return String((error as { code?: string }).code ?? error);
  }
}

/** Roles' attributes and password hashes plus database owners and ACLs, for "nothing changed" checks. */
async function snapshot(roles: string[], dbs: string[]): Promise<unknown> {
  return withClient(adminUrl, async (c) => ({
    roles: (
      await c.query(
        'SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname',
        [roles],
      )
    ).rows,
    dbs: (
      await c.query(
        'SELECT datname, pg_get_userbyid(datdba) AS owner, datacl::text FROM pg_database WHERE datname = ANY($1) ORDER BY datname',
        [dbs],
      )
    ).rows,
  }));
}

describe('init-db.sql run by psql', () => {
  it('an ADR-style file (ULM section with \\c, then two app blocks) runs once cleanly and isolates every app', async () => {
    const ulm = freshDbName('ulm');
    const a = freshApp('inv');
    const b = freshApp('crm');
    const text = withApps(adrUlmSection(ulm), a.spec, b.spec);
    expect(text.startsWith(adrUlmSection(ulm))).toBe(true);
    const file = await writeSql('adr', text);

    const run = await runPsqlFile(file, envOf(a, b), adminUrl);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    // The passwords never show up in psql's output.
    for (const app of [a, b]) {
      expect(run.stdout).not.toContain(app.password);
    }

    for (const [me, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const { user, db } = me.spec.names;
      expect(await createsTable(user, me.password, db)).toBe(true);
      expect(await canConnect(urlFor(adminUrl, user, 'wrong-password', db))).toBe('28P01');
      for (const elsewhere of [other.spec.names.db, `${ulm}_db`, 'postgres', 'template1']) {
        expect({ db: elsewhere, result: await canConnect(urlFor(adminUrl, user, me.password, elsewhere)) }).toEqual({
          db: elsewhere,
          result: '42501',
        });
      }
    }
    // ULM keeps its database (explicit GRANT ALL PRIVILEGES), and only that one.
    expect(await createsTable(`${ulm}_user`, `${ulm}_pass`, `${ulm}_db`)).toBe(true);
    expect(await canConnect(urlFor(adminUrl, `${ulm}_user`, `${ulm}_pass`, a.spec.names.db))).toBe('42501');
    expect(await canConnect(urlFor(adminUrl, `${ulm}_user`, `${ulm}_pass`, 'postgres'))).toBe('42501');

    // Roles are plain logins.
    await withClient(adminUrl, async (c) => {
      const rows = (
        await c.query(
          'SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
          [[a.spec.names.user, b.spec.names.user]],
        )
      ).rows;
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r).toMatchObject({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true });
      const owners = (
        await c.query('SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1) ORDER BY datname', [
          [a.spec.names.db, b.spec.names.db],
        ])
      ).rows;
      expect(owners).toEqual(
        [a, b]
          .map((x) => ({ datname: x.spec.names.db, owner: x.spec.names.user }))
          .sort((p, q) => p.datname.localeCompare(q.datname)),
      );
    });

    // What the image does not do: a second run of this file fails in the ADR's own, non-idempotent part.
    const again = await runPsqlFile(file, envOf(a, b), adminUrl);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toContain(`database "${ulm}_db" already exists`);
  });

  it('runs twice with an idempotent ULM section: the second run succeeds and changes nothing', async () => {
    const ulm = freshDbName('ulm');
    const a = freshApp('inv');
    const b = freshApp('crm');
    const file = await writeSql('idem', withApps(idempotentUlmSection(ulm), a.spec, b.spec));
    const env = envOf(a, b);

    const first = await runPsqlFile(file, env, adminUrl);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('CREATE ROLE');
    expect(first.stdout).toContain('CREATE DATABASE');

    const roles = [a.spec.names.user, b.spec.names.user, `${ulm}_user`];
    const dbs = [a.spec.names.db, b.spec.names.db, `${ulm}_db`, 'postgres', 'template1'];
    const before = await snapshot(roles, dbs);

    const second = await runPsqlFile(file, env, adminUrl);
    expect(second.stderr).toBe('');
    expect(second.exitCode).toBe(0);
    // \gexec ran nothing from our blocks: no command tags from them.
    expect(second.stdout).not.toMatch(/^(CREATE ROLE|CREATE DATABASE|REVOKE|DO)$/m);
    expect(await snapshot(roles, dbs)).toEqual(before);

    // A rerun with a different verifier does not change an existing role's password.
    const changed = await runPsqlFile(file, { ...env, [a.spec.names.verifierVar]: scramVerifier('another-password'.repeat(3)) }, adminUrl);
    expect(changed.exitCode).toBe(0);
    expect(await snapshot(roles, dbs)).toEqual(before);
    expect(await createsTable(a.spec.names.user, a.password, a.spec.names.db)).toBe(true);
  });

  it('runs a CRLF file (psql accepts CRLF meta-commands)', async () => {
    const ulm = freshDbName('ulm');
    const a = freshApp('win');
    const crlf = idempotentUlmSection(ulm).replace(/\n/g, '\r\n');
    const text = withApps(crlf, a.spec);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    const file = await writeSql('crlf', text);
    const run = await runPsqlFile(file, envOf(a), adminUrl);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(await createsTable(a.spec.names.user, a.password, a.spec.names.db)).toBe(true);
    expect(await canConnect(urlFor(adminUrl, a.spec.names.user, a.password, `${ulm}_db`))).toBe('42501');
  });

  for (const [name, value] of [
    ['unset', undefined],
    ['empty', ''],
  ] as const) {
    it(`ovu-db-init: stops with exit != 0 and names the variable when the verifier is ${name}`, async () => {
      const a = freshApp('nopw');
      const file = await writeSql('nopw', withApps('', a.spec));
      const env: NodeJS.ProcessEnv = value === undefined ? {} : { [a.spec.names.verifierVar]: value };
      const run = await runPsqlFile(file, env, adminUrl);
      expect(run.exitCode).not.toBe(0);
      expect(run.stderr).toContain(`ERROR:  init-db.sql: ${a.spec.names.verifierVar} is not set or is empty`);
      expect(run.stderr).toContain('.env');
      expect(run.stderr).toContain('ovu-db-init');
      await withClient(adminUrl, async (c) => {
        const found = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1 UNION ALL SELECT 1 FROM pg_database WHERE datname = $2', [
          a.spec.names.user,
          a.spec.names.db,
        ]);
        expect(found.rowCount).toBe(0);
      });
    });
  }

  it("the ADR's own init-db.sql: an app it creates by hand is refused, another app's file runs under psql", async () => {
    const inv = freshApp('adrinv');
    const other = freshApp('adrother');
    // The ADR's init-db.sql creates the ULM and inventory databases and logins by hand.
    const adr = adrUlmSection(inv.spec.names.snake).replace(new RegExp(`${inv.spec.names.snake}_pass`, 'g'), 'inventory_pass');
    expect(() => editInitDb(adr, inv.spec, { force: false })).toThrow(/^init-db\.sql:2: your own lines already create the database /);
    const file = await writeSql('adr-other', withApps(adr, other.spec));
    const run = await runPsqlFile(file, envOf(other), adminUrl, { entrypoint: true });
    expect(run.stderr).not.toMatch(/ERROR/);
    expect(run.exitCode).toBe(0);
    expect(await createsTable(other.spec.names.user, other.password, other.spec.names.db)).toBe(true);
  });

  it("the image's entrypoint (no -v ovu_db_init, no app variables) skips the app blocks with a warning and succeeds", async () => {
    const a = freshApp('entry');
    const open = freshDbName('entryopen');
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(open)}`));
    const file = await writeSql('entry', withApps('', a.spec));
    const run = await runPsqlFile(file, {}, adminUrl, { entrypoint: true });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain(`init-db.sql: skipping ${a.spec.names.title} (${a.spec.names.verifierVar} is not in this environment); the ovu-db-init service creates it`);
    const found = await withClient(adminUrl, (c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [a.spec.names.user]));
    expect(found.rowCount).toBe(0);
    // The platform block still ran.
    const acl = await withClient(adminUrl, (c) => c.query<{ open: boolean }>("SELECT has_database_privilege('public', $1, 'CONNECT') AS open", [open]));
    expect(acl.rows[0]!.open).toBe(false);
    // Then ovu-db-init creates it.
    const init = await runPsqlFile(file, envOf(a), adminUrl);
    expect(init.stderr).toBe('');
    expect(await createsTable(a.spec.names.user, a.password, a.spec.names.db)).toBe(true);
  });

  it('stops when the verifier is not a SCRAM-SHA-256 verifier (e.g. the password put there by mistake)', async () => {
    const a = freshApp('plain');
    const file = await writeSql('plain', withApps('', a.spec));
    const run = await runPsqlFile(file, { [a.spec.names.verifierVar]: a.password }, adminUrl);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(`init-db.sql: ${a.spec.names.verifierVar} is not a SCRAM-SHA-256 verifier`);
    expect(run.stderr + run.stdout).not.toContain(a.password);
  });

  it('stops when the app database already exists with another owner', async () => {
    const a = freshApp('taken');
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(a.spec.names.db)}`));
    const file = await writeSql('taken', withApps('', a.spec));
    const run = await runPsqlFile(file, envOf(a), adminUrl);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(
      `database ${a.spec.names.db} already exists and is owned by postgres, not ${a.spec.names.user}`,
    );
  });

  it('picks up an app created by its init-db.sql block (same statements) without changing it', async () => {
    const spec = testAppSpec(freshDbName('fromfile'));
    const password = trickyPassword();
    const dir = await mkdtemp(join(tmpdir(), 'ovu-prov-'));
    try {
      const file = join(dir, 'init-db.sql');
      await writeFile(file, editInitDb(undefined, spec, { force: false }).text);
      const run = await runPsqlFile(file, { [spec.names.verifierVar]: scramVerifier(password) }, adminUrl);
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const report = await provision(spec, { adminUrl, password });
    expect(report.created).toEqual({ role: false, database: false });
    expect(report.changed).toEqual([]);
    expect(report.verified.filter((v) => v.status !== 'ok')).toEqual([]);
  });

});
