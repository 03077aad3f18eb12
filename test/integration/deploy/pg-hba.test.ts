/**
 * The Cluster's pg_hba lines on a real PostgreSQL, laid out as CloudNativePG writes pg_hba.conf
 * (its fixed certificate rules, then the Cluster's lines, then its default `host all all all
 * scram-sha-256`), and the databases made as CloudNativePG makes them: a login and a database it
 * owns, with no REVOKE from PUBLIC. ADR-002's isolation then rests on those lines alone.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterManifest } from '../../../src/workspace/k8s.ts';
import { appSpec } from '../../helpers/spec.ts';
import { canConnect, startTestPostgres, urlFor, withClient, type TestPostgres } from '../../helpers/postgres.ts';

const APPS = [appSpec('inventory'), appSpec('orders')];
const PASSWORD = (user: string) => `${user}-${'p'.repeat(32)}`;
// A login of the platform's that no app rule names (ULM's).
const ULM = 'ulm_user';

/** pg_hba.conf as CloudNativePG renders it around the Cluster's `spec.postgresql.pg_hba` (no Unix socket here, so no `local` line). */
function cnpgHba(lines: string[]): string {
  return [
    'hostssl postgres streaming_replica all cert',
    'hostssl replication streaming_replica all cert',
    'hostssl all cnpg_pooler_pgbouncer all cert',
    ...lines,
    'host all all all scram-sha-256',
    '',
  ].join('\n');
}

let pg: TestPostgres;
let dir: string;
const hbaLines = (parse(clusterManifest(APPS)) as { spec: { postgresql: { pg_hba: string[] } } }).spec.postgresql.pg_hba;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ovu-hba-'));
  await chmod(dir, 0o755);
  const hba = join(dir, 'pg_hba.conf');
  await writeFile(hba, cnpgHba(hbaLines), { mode: 0o644 });
  pg = await startTestPostgres({ settings: { hba_file: hba } });
  await withClient(pg.adminUrl, async (c) => {
    for (const user of [...APPS.map((a) => a.names.user), ULM]) await c.query(`CREATE ROLE ${user} LOGIN PASSWORD '${PASSWORD(user)}'`);
    for (const a of APPS) await c.query(`CREATE DATABASE ${a.names.db} OWNER ${a.names.user}`);
    await c.query(`CREATE DATABASE ulm_db OWNER ${ULM}`);
  });
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const as = (user: string, db: string) => canConnect(urlFor(pg.adminUrl, user, user === pg.user ? pg.password : PASSWORD(user), db));

describe("the Cluster's pg_hba on PostgreSQL 15 (without any REVOKE)", () => {
  it('runs with the pg_hba.conf the test wrote', async () => {
    const file = await withClient(pg.adminUrl, async (c) => (await c.query<{ hba_file: string }>('SHOW hba_file')).rows[0]!.hba_file);
    expect(file).toBe(join(dir, 'pg_hba.conf'));
  });

  it('lets each app login into its own database', async () => {
    for (const a of APPS) expect(await as(a.names.user, a.names.db), a.names.user).toBe(true);
  });

  it("keeps each app login out of every other database, and every other login out of the app's", async () => {
    // 28000: "pg_hba.conf rejects connection".
    expect(await as('inventory_user', 'orders_db')).toBe('28000');
    expect(await as('orders_user', 'inventory_db')).toBe('28000');
    expect(await as('inventory_user', 'postgres')).toBe('28000');
    expect(await as('inventory_user', 'ulm_db')).toBe('28000');
    expect(await as(ULM, 'inventory_db')).toBe('28000');
    // The superuser over TCP too: CloudNativePG's own connections are local (peer), before these rules.
    expect(await as(pg.user, 'inventory_db')).toBe('28000');
  });

  it('leaves the rest as the default rule has it', async () => {
    expect(await as(ULM, 'ulm_db')).toBe(true);
    expect(await as(pg.user, 'postgres')).toBe(true);
    // A wrong password is still refused by scram-sha-256.
    expect(await canConnect(urlFor(pg.adminUrl, 'inventory_user', 'wrong-password', 'inventory_db'))).toBe('28P01');
  });

  it("would let PUBLIC's CONNECT through without those lines (the test can tell)", async () => {
    // Same server, same databases: only the default rule.
    await writeFile(join(dir, 'pg_hba.conf'), cnpgHba([]));
    await withClient(pg.adminUrl, (c) => c.query('SELECT pg_reload_conf()'));
    try {
      expect(await as('inventory_user', 'orders_db')).toBe(true);
    } finally {
      await writeFile(join(dir, 'pg_hba.conf'), cnpgHba(hbaLines));
      await withClient(pg.adminUrl, (c) => c.query('SELECT pg_reload_conf()'));
    }
    expect(await as('inventory_user', 'orders_db')).toBe('28000');
  });
});
