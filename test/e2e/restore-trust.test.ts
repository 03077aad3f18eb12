/**
 * restore against a hostile dump, through the built CLI, on real PostgreSQL 15 to 18 with a
 * superuser admin and a CREATEROLE one (as managed PostgreSQL gives). The app's own login (anyone
 * with its password, or a compromised app) plants a CHECK constraint calling a function that
 * does `RESET ROLE; ALTER ROLE <app>_user SUPERUSER` and `GRANT <other>_user TO <app>_user`; the
 * dump carries it and it runs while pg_restore loads the rows. Restored in a session that *is*
 * the app's login, it gains nothing. And a dump of another database, a plain-SQL file or no
 * dump at all is refused in one line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from '../helpers/cli.ts';
import { MAJORS, startTestPostgres, urlFor, withClient, type TestPostgres } from '../helpers/postgres.ts';
import { scramVerifier } from '../../src/database/scram.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';

const pgClients = fileURLToPath(new URL('../../.cache/pg-clients/', import.meta.url));
const cachedClients = MAJORS.map((m) => path.join(pgClients, String(m), 'bin')).filter((d) => fs.existsSync(d));
const PATH = [process.env.PATH, process.env.OVU_TEST_PG_BIN, ...cachedClients].filter(Boolean).join(':');

const OPS = 'ops_admin';
const OPS_PASSWORD = `ops-${'o'.repeat(32)}`;

function oneLineError(r: CliResult, message: RegExp): void {
  expect(r.exitCode, r.stderr).not.toBe(0);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

describe.each(MAJORS)('restore on PostgreSQL %i', (major) => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startTestPostgres({ major });
    await withClient(server.adminUrl, async (c) => {
      await c.query(`CREATE ROLE ${OPS} LOGIN CREATEROLE CREATEDB PASSWORD '${scramVerifier(OPS_PASSWORD)}'`);
      await c.query(`GRANT CONNECT ON DATABASE postgres TO ${OPS}`);
    });
  });
  afterAll(async () => server?.stop());

  const sql = <T extends object>(url: string, text: string, params: unknown[] = []): Promise<T[]> => withClient(url, async (c) => (await c.query(text, params)).rows as T[]);
  const cli = (args: string[], ws: string): Promise<CliResult> => runCli([...args, '--workspace', ws], { env: { PATH } });

  for (const kind of ['superuser', 'createrole'] as const) {
    it(`a dump whose CHECK constraint tries RESET ROLE and ALTER ROLE … SUPERUSER / GRANT: the ${kind} admin's restore leaves the login as it was, and the data comes back`, async () => {
      const admin = kind === 'superuser' ? server.adminUrl : urlFor(server.adminUrl, OPS, OPS_PASSWORD);
      const ws = tempDir();
      const app = `atk${kind.slice(0, 2)}`;
      const other = `oth${kind.slice(0, 2)}`;
      for (const name of [app, other]) {
        const r = await cli([name, '--yes', '--create-db', '--admin-url', admin], ws);
        expect(r.exitCode, r.stderr).toBe(0);
      }
      const password = readEnvVar(fs.readFileSync(path.join(ws, app, '.env'), 'utf8'), `${app.toUpperCase()}_DB_PASSWORD`)!;
      const appUrl = urlFor(server.adminUrl, `${app}_user`, password, `${app}_db`);
      // The app's login plants it: a function that escapes SET ROLE when it can, and swallows the
      // errors when it cannot, so the restore itself still succeeds.
      await withClient(appUrl, async (c) => {
        await c.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
        await c.query("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
        await c.query(`CREATE FUNCTION escalate() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
          BEGIN
            BEGIN RESET ROLE; EXECUTE 'ALTER ROLE ${app}_user SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
            BEGIN RESET ROLE; EXECUTE 'GRANT ${other}_user TO ${app}_user'; EXCEPTION WHEN OTHERS THEN NULL; END;
            BEGIN RESET ROLE; EXECUTE 'ALTER ROLE ${app}_user CREATEROLE'; EXCEPTION WHEN OTHERS THEN NULL; END;
            RETURN true;
          END $f$`);
        await c.query('CREATE TABLE planted (id int, CHECK (escalate()))');
        await c.query('INSERT INTO planted VALUES (1)');
        await c.query('ALTER TABLE items ADD CONSTRAINT also CHECK (escalate())');
      });
      const rights = () =>
        sql<{ super: boolean; createrole: boolean; member_of: number }>(
          server.adminUrl,
          `SELECT rolsuper AS super, rolcreaterole AS createrole, (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS member_of FROM pg_roles r WHERE rolname = $1`,
          [`${app}_user`],
        );
      expect(await rights()).toEqual([{ super: false, createrole: false, member_of: 0 }]);

      const backup = await cli(['backup', app, '--admin-url', admin], ws);
      expect(backup.exitCode, backup.stderr).toBe(0);
      const dump = fs.readdirSync(path.join(ws, 'backups', app)).map((f) => path.join(ws, 'backups', app, f))[0]!;
      await sql(appUrl, 'DELETE FROM items WHERE id > 10');

      const r = await cli(['restore', app, dump, '--yes', '--admin-url', admin], ws);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(password);
      // The function ran (the rows passed its CHECK), as the app: it gained nothing.
      expect(await rights()).toEqual([{ super: false, createrole: false, member_of: 0 }]);
      expect(await sql(appUrl, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 100 }]);
      expect(await sql(appUrl, 'SELECT count(*)::int AS n FROM planted')).toEqual([{ n: 1 }]);
      expect(await sql(server.adminUrl.replace(/\/postgres$/, `/${app}_db`), "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).toEqual([{ tableowner: `${app}_user` }]);

      // The plan: where the dump came from, and who runs it.
      const dry = await cli(['restore', app, dump, '--dry-run', '--admin-url', admin], ws);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(new RegExp(`: a dump of database ${app}_db \\(PostgreSQL ${major}\\.\\d+\\), taken \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\S+, [\\d.]+ kB\\.`));
      expect(dry.stdout).toMatch(new RegExp(`Runs, logged in as ${app}_user .*pg_restore --clean --if-exists --no-owner --single-transaction`));
      expect(dry.stdout).not.toContain('--role');
      expect(dry.stdout).toMatch(/public\.items\s+100 row\(s\) now/);

      if (major !== 15) return;
      // Once is enough for the refusals: another app's dump, a plain-SQL file, no dump at all.
      const foreign = await cli(['restore', other, dump, '--yes', '--admin-url', admin], ws);
      oneLineError(foreign, new RegExp(`was taken from database "${app}_db", not ${other}_db: restore refuses another database's dump unless you name it \\(--from-db ${app}_db\\)`));
      const foreignDry = await cli(['restore', other, dump, '--dry-run', '--admin-url', admin], ws);
      oneLineError(foreignDry, /refuses another database's dump/);
      const wrongName = await cli(['restore', other, dump, '--yes', '--from-db', 'nope_db', '--admin-url', admin], ws);
      oneLineError(wrongName, new RegExp(`taken from database "${app}_db", not "nope_db" as --from-db says`));
      const named = await cli(['restore', other, dump, '--dry-run', '--from-db', `${app}_db`, '--admin-url', admin], ws);
      expect(named.exitCode, named.stderr).toBe(0);
      expect(named.stdout).toContain(`a dump of database ${app}_db`);
      expect(named.stdout).toContain(`not ${other}_db: restored because --from-db names it`);
      const plain = path.join(ws, 'plain.sql');
      const pgDump = await execa('pg_dump', ['--format=plain', `--file=${plain}`, `--dbname=${appUrl}`], { env: { PATH }, reject: false });
      expect(pgDump.exitCode, pgDump.stderr).toBe(0);
      oneLineError(await cli(['restore', app, plain, '--yes', '--admin-url', admin], ws), /plain\.sql is a plain-SQL dump: restore takes only a pg_dump archive/);
      const bogus = path.join(ws, 'bogus.dump');
      fs.writeFileSync(bogus, 'PGDMPnot really a dump at all'.repeat(10));
      oneLineError(await cli(['restore', app, bogus, '--yes', '--admin-url', admin], ws), /bogus\.dump is not a pg_dump archive/);
      expect(await sql(appUrl, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 100 }]);
    });
  }
});
