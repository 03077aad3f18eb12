/**
 * What provision and doctor may do to a shared server, on PostgreSQL 15, 16, 17 and 18, with a
 * superuser and with an admin that has only CREATEROLE and CREATEDB: one verifier per role (the
 * server holds the workspace's string), server-wide REVOKEs only with consent, and logins shared
 * through role memberships refused (or cleaned with consent) and reported by doctor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../../../src/database/provision.ts';
import { serverVerifier } from '../../../src/database/server-state.ts';
import { appUserConfig } from '../../../src/database/connection.ts';
import { scramVerifier } from '../../../src/database/scram.ts';
import { auditServer } from '../../../src/doctor/server-checks.ts';
import type { AuditedApp } from '../../../src/doctor/workspace-checks.ts';
import type { AppSpec } from '../../../src/app/spec.ts';
import { tempDir } from '../../helpers/cli.ts';
import { MAJORS, freshDbName, startTestPostgres, testAppSpec, urlFor, withClient, type TestPostgres } from '../../helpers/postgres.ts';
import { randomBytes } from 'node:crypto';
import { userErrorOf } from '../../helpers/errors.ts';

const OPS = 'ops_admin';
const OPS_PASSWORD = `ops-${'o'.repeat(32)}`;
const MALLORY_PASSWORD = `mal-${'m'.repeat(32)}`;
const password = (): string => randomBytes(24).toString('hex');

const rejection = userErrorOf;

describe.each(MAJORS)('PostgreSQL %i', (major) => {
  let server: TestPostgres;
  let superUrl: string;
  let opsUrl: string;
  const sql = <T extends object>(text: string, params: unknown[] = []): Promise<T[]> => withClient(superUrl, async (c) => (await c.query(text, params)).rows as T[]);
  const rolpassword = async (role: string): Promise<string> => (await sql<{ v: string }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [role]))[0]!.v;
  const publicCanConnect = async (db: string): Promise<boolean> =>
    (await sql<{ ok: boolean }>("SELECT has_database_privilege('public', $1, 'CONNECT') AS ok", [db]))[0]!.ok;
  const fresh = (prefix: string): { spec: AppSpec; password: string } => ({ spec: testAppSpec(freshDbName(prefix)), password: password() });

  beforeAll(async () => {
    server = await startTestPostgres({ major });
    superUrl = server.adminUrl;
    opsUrl = urlFor(superUrl, OPS, OPS_PASSWORD);
    await withClient(superUrl, async (c) => {
      await c.query(`CREATE ROLE ${OPS} LOGIN CREATEROLE CREATEDB PASSWORD '${OPS_PASSWORD}'`);
      await c.query(`CREATE ROLE mallory LOGIN PASSWORD '${MALLORY_PASSWORD}'`);
      // Somewhere mallory may always connect, to try SET ROLE from.
      await c.query('CREATE DATABASE mallory_db OWNER mallory');
      // The managed admin keeps its way in once PUBLIC's CONNECT is gone (as a cloud's admin has).
      await c.query(`GRANT CONNECT ON DATABASE postgres TO ${OPS}`);
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  describe.each([
    ['a superuser', () => superUrl],
    ['a CREATEROLE + CREATEDB admin', () => opsUrl],
  ])('as %s', (_who, url) => {
    it('gives the role the very verifier the workspace keeps, and sets it again when the server holds another salt', async () => {
      const { spec, password: pw } = fresh('ver');
      const kept = scramVerifier(pw);
      const first = await provision(spec, { adminUrl: url(), password: pw, verifier: kept });
      expect(first.verifier).toBe('created');
      expect(await rolpassword(spec.names.user)).toBe(kept);
      // What doctor reads: pg_authid for a superuser, a real login's salt for the CREATEROLE admin.
      const { default: pg } = await import('pg');
      await withClient(url(), async (admin) => {
        expect(await serverVerifier(pg, admin, spec.names.user, pw, appUserConfig(url(), spec.names.user, 5000)(spec.names.db, pw))).toBe(kept);
      });

      // Same password, another salt (what provision did before: PgBouncer's userlist then no longer logs in).
      const other = scramVerifier(pw);
      await sql(`ALTER ROLE ${spec.names.user} PASSWORD '${other}'`);
      const synced = await provision(spec, { adminUrl: url(), password: pw, verifier: kept });
      expect(synced.verifier).toBe('set');
      expect(synced.changed[0]).toMatch(/^gave role \S+ the password verifier ovu-db-init\/verifiers\/\.env and PgBouncer's userlist keep/);
      expect(await rolpassword(spec.names.user)).toBe(kept);
      const again = await provision(spec, { adminUrl: url(), password: pw, verifier: kept });
      expect(again.changed).toEqual([]);
    });

    it('refuses a login another role can SET ROLE into, changes nothing without consent, and ends the membership with it', async () => {
      const { spec, password: pw } = fresh('shared');
      await provision(spec, { adminUrl: url(), password: pw });
      const role = spec.names.user;
      // Granted by the admin that manages the role (a CREATEROLE admin on 16+ can end only its own grants).
      await withClient(url(), (c) => c.query(`GRANT ${role} TO mallory`));
      const asMallory = urlFor(superUrl, 'mallory', MALLORY_PASSWORD, 'mallory_db');
      const malloryCanSetRole = (): Promise<boolean> =>
        withClient(asMallory, (c) => c.query(`SET ROLE ${role}`).then(() => true, () => false));
      expect(await malloryCanSetRole()).toBe(true);

      const error = await rejection(provision(spec, { adminUrl: url(), password: pw }));
      expect(error.message).toContain(`role ${role} at 127.0.0.1:${server.port} is shared: mallory is a member of ${role}`);
      expect(error.message).toContain('--revoke-memberships');
      expect(error.message).toContain(`REVOKE ${role} FROM mallory`);
      const dry = await rejection(provision(spec, { adminUrl: url(), password: pw, dryRun: true }));
      expect(dry.message).toBe(error.message);
      expect(await malloryCanSetRole()).toBe(true);

      // doctor reports it.
      const root = tempDir('ovu-trust-doctor-');
      const app: AuditedApp = { dir: spec.names.slug, spec, password: pw, backendDir: path.join(root, spec.names.slug, 'backend') };
      fs.mkdirSync(app.backendDir, { recursive: true });
      const checks = await auditServer(url(), [app], { root });
      const membership = checks.find((c) => c.id === `app.${app.dir}.memberships`)!;
      expect(membership.status).toBe('failed');
      expect(membership.message).toContain('mallory');
      expect(membership.fix).toContain('--revoke-memberships');

      const cleaned = await provision(spec, { adminUrl: url(), password: pw, revokeMemberships: true });
      expect(cleaned.changed).toContain(`ended a membership of ${role}: REVOKE ${role} FROM mallory`);
      expect(await malloryCanSetRole()).toBe(false);
      expect((await auditServer(url(), [app], { root })).find((c) => c.id === `app.${app.dir}.memberships`)!.status).toBe('ok');
    });

    it('a membership the admin cannot end (granted by a superuser, on 16+ for a CREATEROLE admin) stops provision with the statement to run', async () => {
      const { spec, password: pw } = fresh('granted');
      await provision(spec, { adminUrl: url(), password: pw });
      await sql(`GRANT ${spec.names.user} TO mallory`);
      const run = provision(spec, { adminUrl: url(), password: pw, revokeMemberships: true });
      if (url() === opsUrl && major >= 16) {
        const error = await rejection(run);
        expect(error.message).toContain(`could not end every membership of ${spec.names.user}`);
        expect(error.message).toContain(`have a superuser run REVOKE ${spec.names.user} FROM mallory`);
        await sql(`REVOKE ${spec.names.user} FROM mallory`);
      } else {
        await run;
      }
      expect(await sql(`SELECT 1 FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid WHERE r.rolname = $1 AND a.member = 'mallory'::regrole`, [spec.names.user])).toEqual([]);
    });

    it('refuses a login that is itself a member of another role', async () => {
      const { spec, password: pw } = fresh('member');
      await provision(spec, { adminUrl: url(), password: pw });
      const group = `grp_${spec.names.snake}`.slice(0, 60);
      await sql(`CREATE ROLE ${group}`);
      await sql(`GRANT ${group} TO ${spec.names.user}`);
      const error = await rejection(provision(spec, { adminUrl: url(), password: pw }));
      expect(error.message).toContain(`${spec.names.user} is a member of ${group}`);
    });
  });

  it('doctor fails a server verifier that is not the one ovu-db-init/verifiers/.env and PgBouncer\'s userlist keep', async () => {
    const { spec, password: pw } = fresh('dver');
    const kept = scramVerifier(pw);
    await provision(spec, { adminUrl: opsUrl, password: pw, verifier: kept });
    const root = tempDir('ovu-trust-verifier-');
    const app: AuditedApp = { dir: spec.names.slug, spec, password: pw, backendDir: path.join(root, spec.names.slug, 'backend') };
    fs.mkdirSync(app.backendDir, { recursive: true });
    fs.writeFileSync(path.join(root, '.env'), `${spec.names.verifierVar}='${kept}'\n`);
    fs.mkdirSync(path.join(root, 'pgbouncer'));
    fs.writeFileSync(path.join(root, 'pgbouncer', 'userlist.txt'), `; header\n"${spec.names.user}" "${kept}"\n`);
    for (const admin of [superUrl, opsUrl]) {
      const check = (await auditServer(admin, [app], { root })).find((c) => c.id === `app.${app.dir}.server-verifier`)!;
      expect(check.status).toBe('ok');
    }
    await sql(`ALTER ROLE ${spec.names.user} PASSWORD '${scramVerifier(pw)}'`);
    for (const admin of [superUrl, opsUrl]) {
      const check = (await auditServer(admin, [app], { root })).find((c) => c.id === `app.${app.dir}.server-verifier`)!;
      expect(check.status).toBe('failed');
      expect(check.message).toContain('PgBouncer cannot log in');
      expect(check.fix).toContain(`provision ${app.dir}`);
    }
  });

  it("closes the workspace's databases without asking, and another team's only with consent (naming it and who loses access)", async () => {
    const mine = fresh('mine');
    const next = fresh('next');
    await provision(mine.spec, { adminUrl: superUrl, password: mine.password });
    // Another team's database on the same server, open to PUBLIC (the default); and this workspace's, opened again.
    const team = freshDbName('billing');
    await sql(`CREATE ROLE ${team}_user LOGIN PASSWORD '${password()}'`);
    await sql(`CREATE DATABASE ${team}_db OWNER ${team}_user`);
    await sql(`GRANT CONNECT ON DATABASE ${mine.spec.names.db} TO PUBLIC`);
    const roles = [mine.spec.names.user, next.spec.names.user];

    const dry = await provision(next.spec, { adminUrl: superUrl, password: next.password, workspaceRoles: roles, serverWide: false, dryRun: true });
    expect(dry.planned.some((p) => p.sql.includes(`${team}_db`))).toBe(false);
    expect(dry.serverWideSkipped).toContainEqual({ database: `${team}_db`, owner: `${team}_user` });

    const local = await provision(next.spec, { adminUrl: superUrl, password: next.password, workspaceRoles: roles, serverWide: false });
    expect(await publicCanConnect(`${team}_db`)).toBe(true);
    expect(await publicCanConnect(mine.spec.names.db)).toBe(false);
    expect(local.serverWideSkipped).toContainEqual({ database: `${team}_db`, owner: `${team}_user` });
    expect(local.lostPublicAccess.filter((l) => l.serverWide)).toEqual([]);
    expect(local.verified.find((v) => v.id === `refused.${team}_db`)).toMatchObject({ status: 'warning' });

    const consented = await provision(next.spec, { adminUrl: superUrl, password: next.password, workspaceRoles: roles, serverWide: true, dryRun: true });
    expect(consented.planned).toContainEqual(expect.objectContaining({ id: 'harden-databases', sql: `REVOKE CONNECT, TEMPORARY ON DATABASE "${team}_db" FROM PUBLIC`, serverWide: true }));
    expect(consented.lostPublicAccess).toContainEqual({ role: 'mallory', database: `${team}_db`, owner: `${team}_user`, serverWide: true });
    await provision(next.spec, { adminUrl: superUrl, password: next.password, workspaceRoles: roles, serverWide: true });
    expect(await publicCanConnect(`${team}_db`)).toBe(false);
  });
});
