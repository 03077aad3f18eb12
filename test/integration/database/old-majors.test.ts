/**
 * Real compose files still run PostgreSQL 13 and 14 (their psql lacks `\getenv`). ovu-db-init then
 * runs init-db.sql with a current psql (the machine's, as the postgres:17 client image would)
 * against the old server: the blocks create and isolate each app there too, twice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scramVerifier } from '../../../src/database/scram.ts';
import { editInitDb } from '../../../src/workspace/init-db.ts';
import { OLD_MAJORS, canConnect, runPsqlFile, startTestPostgres, testAppSpec, trickyPassword, urlFor, withClient, type TestPostgres } from '../../helpers/postgres.ts';

describe.each(OLD_MAJORS)('PostgreSQL %i with a current psql', (major) => {
  let server: TestPostgres;
  let dir: string;
  beforeAll(async () => {
    server = await startTestPostgres({ major });
    dir = await mkdtemp(join(tmpdir(), 'ovu-old-'));
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the version it says', async () => {
    const version = await withClient(server.adminUrl, (c) => c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v"));
    expect(Math.floor(Number(version.rows[0]!.v) / 10000)).toBe(major);
  });

  it('init-db.sql creates two apps, each reaching only its own database, and a rerun changes nothing', async () => {
    const apps = ['alpha', 'beta'].map((n) => ({ spec: testAppSpec(`${n}_${major}`), password: trickyPassword() }));
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
