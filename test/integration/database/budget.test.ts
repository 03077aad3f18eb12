/**
 * The connection budget on a server with max_connections = 60 and ULM set up the ADR's way (no
 * CONNECTION LIMIT, so counted as its pool of 30): apps with the default pools fit, the ADR's
 * 20 + 10 pool does not, and the refusal names the numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { POOL_DEFAULTS } from '../../../src/app/questions.ts';
import { provision } from '../../../src/database/provision.ts';
import { scramVerifier } from '../../../src/database/scram.ts';
import { appSpec } from '../../helpers/spec.ts';
import { freshDbName, startTestPostgres, trickyPassword, withClient, type TestPostgres } from '../../helpers/postgres.ts';

let server: TestPostgres;
const PASSWORD = trickyPassword();

beforeAll(async () => {
  server = await startTestPostgres({ settings: { max_connections: '60' } });
  await withClient(server.adminUrl, async (c) => {
    await c.query("CREATE ROLE ulm_user LOGIN PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy'");
    await c.query('CREATE DATABASE ulm_db');
    await c.query('GRANT ALL PRIVILEGES ON DATABASE ulm_db TO ulm_user');
  });
});
afterAll(async () => {
  await server?.stop();
});

const withDefaults = (prefix: string) => appSpec(freshDbName(prefix), { pool: { ...POOL_DEFAULTS, timeout: 30 }, processes: 1 });

describe('connection budget (max_connections = 60)', () => {
  it('two apps with the default pools fit beside ULM; each gets CONNECTION LIMIT 11', async () => {
    for (const prefix of ['first', 'second']) {
      const spec = withDefaults(prefix);
      const report = await provision(spec, { adminUrl: server.adminUrl, password: trickyPassword() });
      expect(report.connectionLimit).toBe(11);
      expect(report.budget.maxConnections).toBe(60);
      expect(report.budget.ulm).toBe(30);
    }
    const limits = await withClient(server.adminUrl, (c) =>
      c.query<{ sum: number }>("SELECT sum(rolconnlimit)::int AS sum FROM pg_roles WHERE rolname LIKE '%\\_user' AND rolconnlimit >= 0"),
    );
    // 3 reserved + ULM 30 + 22 = 55 of 60.
    expect(limits.rows[0]!.sum).toBe(22);
  });

  it('a third app, or one with the ADR pool (20 + 10), is refused with the numbers and nothing is created', async () => {
    const third = withDefaults('third');
    await expect(provision(third, { adminUrl: server.adminUrl, password: trickyPassword() })).rejects.toThrow(
      new RegExp(`^connection budget exceeded at 127\\.0\\.0\\.1:${server.port}: 3 reserved \\+ ULM 30 \\+ apps first_\\w+_user 11 \\+ second_\\w+_user 11 \\+ ${third.names.user} 11 = 66 connections, but max_connections is 60; use smaller pools`),
    );
    const adr = appSpec(freshDbName('adr'), { pool: { size: 20, maxOverflow: 10, timeout: 30 }, processes: 1 });
    const error = await provision(adr, { adminUrl: server.adminUrl, password: trickyPassword() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(`${adr.names.user} 31 = 86 connections, but max_connections is 60`);
    // An app already in place is not refused (a rerun takes nothing more), even with the server full.
    const first = (await withClient(server.adminUrl, (c) => c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'first\\_%'"))).rows[0]!.rolname;
    const firstSpec = appSpec(first.replace(/_user$/, ''), { pool: { ...POOL_DEFAULTS, timeout: 30 }, processes: 1 });
    await withClient(server.adminUrl, (c) => c.query(`ALTER ROLE ${c.escapeIdentifier(first)} PASSWORD '${scramVerifier(PASSWORD)}'`));
    const rerun = await provision(firstSpec, { adminUrl: server.adminUrl, password: PASSWORD });
    expect(rerun.changed).toEqual([]);
    // …but more processes for it would not fit: refused.
    await expect(provision({ ...firstSpec, settings: { ...firstSpec.settings, processes: 2 } }, { adminUrl: server.adminUrl, password: PASSWORD })).rejects.toThrow(
      new RegExp(`${first} 21 = 65 connections, but max_connections is 60`),
    );
    const made = await withClient(server.adminUrl, (c) =>
      c.query('SELECT 1 FROM pg_roles WHERE rolname = ANY($1)', [[third.names.user, adr.names.user]]),
    );
    expect(made.rowCount).toBe(0);
  });
});
