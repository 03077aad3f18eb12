/**
 * provision() against a real PostgreSQL 15 (scram-sha-256). The server is shared by the whole run,
 * so every test uses fresh names.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { provision, type ProvisionReport } from '../../../src/database/provision.ts';
import type { AppSpec } from '../../../src/app/spec.ts';
import {
  canConnect,
  freshDbName,
  testAppSpec,
  trickyPassword,
  urlFor,
  withClient,
} from '../../helpers/postgres.ts';
import { userErrorOf } from '../../helpers/errors.ts';

const adminUrl = inject('adminUrl');
const adminPassword = decodeURIComponent(new URL(adminUrl).password);
const port = Number(new URL(adminUrl).port);

function freshSpec(prefix: string): AppSpec {
  return testAppSpec(freshDbName(prefix));
}

const rejection = userErrorOf;

async function exists(role: string, db: string): Promise<{ role: boolean; db: boolean }> {
  return withClient(adminUrl, async (c) => {
    const r = await c.query<{ role: boolean; db: boolean }>(
      'SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1) AS role, EXISTS (SELECT FROM pg_database WHERE datname = $2) AS db',
      [role, db],
    );
    return r.rows[0]!;
  });
}

function expectAllVerified(report: ProvisionReport): void {
  expect(report.verified.filter((v) => v.status !== 'ok')).toEqual([]);
}

/** Run as superuser; escape identifiers with the client. */
async function admin(fn: (c: import('pg').Client) => Promise<unknown>): Promise<void> {
  await withClient(adminUrl, async (c) => {
    await fn(c);
  });
}

describe('provision', () => {
  it('provisions two apps that cannot reach each other, and a rerun changes nothing', async () => {
    const a = freshSpec('inv');
    const b = freshSpec('crm');
    const pa = trickyPassword();
    const pb = trickyPassword();
    const steps: string[] = [];

    const ra = await provision(a, { adminUrl, password: pa, onStep: (s) => steps.push(s) });
    expect(ra.created).toEqual({ role: true, database: true });
    expect(ra.changed).toEqual(
      expect.arrayContaining([`created role ${a.names.user}`, `created database ${a.names.db} owned by ${a.names.user}`]),
    );
    expectAllVerified(ra);
    expect(steps).toEqual(expect.arrayContaining([`create role ${a.names.user}`, `create database ${a.names.db}`, 'verify']));
    expect(steps[0]).not.toContain(adminPassword);

    const rb = await provision(b, { adminUrl, password: pb });
    expectAllVerified(rb);
    const labels = rb.verified.map((v) => v.label);
    expect(labels).toEqual(
      expect.arrayContaining([
        `${b.names.user} logs in to ${b.names.db} and can create a table`,
        `${b.names.user} is refused CONNECT to ${a.names.db}`,
        `${b.names.user} is refused CONNECT to postgres`,
        `${b.names.user} is refused CONNECT to template1`,
        `${b.names.user} is not a superuser`,
        `${b.names.user} cannot create databases`,
        `${b.names.user} cannot create roles`,
      ]),
    );

    // Checked independently of provision's own verification.
    expect(await canConnect(urlFor(adminUrl, a.names.user, pa, a.names.db))).toBe(true);
    expect(await canConnect(urlFor(adminUrl, a.names.user, pa, b.names.db))).toBe('42501');
    expect(await canConnect(urlFor(adminUrl, b.names.user, pb, a.names.db))).toBe('42501');
    expect(await canConnect(urlFor(adminUrl, a.names.user, pa, 'template1'))).toBe('42501');
    await withClient(urlFor(adminUrl, a.names.user, pa, a.names.db), (c) => c.query('CREATE TABLE t (id int)'));

    const again = await provision(a, { adminUrl, password: pa });
    expect(again.created).toEqual({ role: false, database: false });
    expect(again.changed).toEqual([]);
    expectAllVerified(again);
    expect(again.verified.length).toBeGreaterThanOrEqual(rb.verified.length);
  });

  it('refuses a password that does not log in, and --reset-password sets it', async () => {
    const spec = freshSpec('pw');
    const old = trickyPassword();
    const next = trickyPassword();
    await provision(spec, { adminUrl, password: old });

    const error = await rejection(provision(spec, { adminUrl, password: next }));
    expect(error.message).toBe(
      `role ${spec.names.user} exists but the password in ${spec.names.slug}/.env (${spec.names.passwordVar}) does not log in; rerun with --reset-password to set it to that value`,
    );
    expect(await canConnect(urlFor(adminUrl, spec.names.user, old, spec.names.db))).toBe(true);

    const report = await provision(spec, { adminUrl, password: next, resetPassword: true });
    expect(report.changed).toEqual([`set the password of role ${spec.names.user} to the value in ${spec.names.slug}/.env`]);
    expectAllVerified(report);
    expect(await canConnect(urlFor(adminUrl, spec.names.user, next, spec.names.db))).toBe(true);
    expect(await canConnect(urlFor(adminUrl, spec.names.user, old, spec.names.db))).toBe('28P01');

    // --reset-password with the right password is a no-op.
    const noop = await provision(spec, { adminUrl, password: next, resetPassword: true });
    expect(noop.changed).toEqual([]);
  });

  it('adopts an existing role without a database when its password logs in (and refuses it otherwise)', async () => {
    const spec = freshSpec('roleonly');
    const password = trickyPassword();
    await admin((c) => c.query(`CREATE ROLE ${c.escapeIdentifier(spec.names.user)} LOGIN PASSWORD ${c.escapeLiteral(password)}`));

    const error = await rejection(provision(spec, { adminUrl, password: 'not-the-password-but-long-enough-to-pass' }));
    expect(error.message).toMatch(/exists but the password in \S+\/\.env .* does not log in/);
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: true, db: false });

    const report = await provision(spec, { adminUrl, password });
    expect(report.created).toEqual({ role: false, database: true });
    expectAllVerified(report);
  });

  it('fails when a grant lets the login into another database, naming the database and the REVOKE', async () => {
    const spec = freshSpec('granted');
    const password = trickyPassword();
    expectAllVerified(await provision(spec, { adminUrl, password }));
    const other = freshDbName('otherteam');
    await admin(async (c) => {
      await c.query(`CREATE DATABASE ${c.escapeIdentifier(other)}`);
      await c.query(`REVOKE ALL ON DATABASE ${c.escapeIdentifier(other)} FROM PUBLIC`);
      await c.query(`GRANT CONNECT ON DATABASE ${c.escapeIdentifier(other)} TO ${c.escapeIdentifier(spec.names.user)}`);
    });
    try {
      const error = await rejection(provision(spec, { adminUrl, password }));
      expect(error.message).toContain(`${spec.names.user} can connect to ${other}, another database`);
      expect(error.message, error.message).toContain(`REVOKE CONNECT, TEMPORARY ON DATABASE "${other}" FROM "${spec.names.user}";`);
    } finally {
      await admin((c) => c.query(`DROP DATABASE ${c.escapeIdentifier(other)}`));
    }
  });

  it('refuses a database owned by another role and changes nothing', async () => {
    const spec = freshSpec('owned');
    const other = freshDbName('someone');
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${c.escapeIdentifier(other)}`);
      await c.query(`CREATE DATABASE ${c.escapeIdentifier(spec.names.db)} OWNER ${c.escapeIdentifier(other)}`);
    });
    const error = await rejection(provision(spec, { adminUrl, password: trickyPassword() }));
    expect(error.message).toContain(`database ${spec.names.db} already exists and is owned by ${other}, not ${spec.names.user}`);
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: false, db: true });
  });

  it('reports a wrong admin password without showing any password', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const spec = freshSpec('badadmin');
    const appPassword = trickyPassword();
    const error = await rejection(provision(spec, { adminUrl: urlFor(adminUrl, 'postgres', wrong), password: appPassword }));
    expect(error.message).toBe(
      `authentication failed for user postgres at 127.0.0.1:${port}; check --admin-url or PGPASSWORD`,
    );
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(adminPassword);
    expect(error.message).not.toContain(appPassword);
  });

  it('says a password is missing (not pg\'s SASL words) when the admin URL has none and PGPASSWORD is unset', async () => {
    const before = process.env.PGPASSWORD;
    delete process.env.PGPASSWORD;
    try {
      const error = await rejection(provision(freshSpec('nopw'), { adminUrl: urlFor(adminUrl, 'postgres', ''), password: trickyPassword(), env: {} }));
      expect(error.message).toBe(`PostgreSQL at 127.0.0.1:${port} asks postgres for a password and none was given: put it in --admin-url, or set PGPASSWORD (or ~/.pgpass)`);
    } finally {
      if (before !== undefined) process.env.PGPASSWORD = before;
    }
  });

  it('reports an unreachable server with host:port', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const url = `postgresql://postgres:secret-${closed}@127.0.0.1:${closed}/postgres`;
    const error = await rejection(provision(freshSpec('down'), { adminUrl: url, password: 'x'.repeat(40) }));
    expect(error.message).toBe(
      `cannot reach PostgreSQL at 127.0.0.1:${closed} (ECONNREFUSED); start it, or pass --admin-url naming a running server.`,
    );
    // With the workspace's database service known, the hint names it (not always "postgres").
    const named = await rejection(provision(freshSpec('down'), { adminUrl: url, password: 'x'.repeat(40), dbService: 'db' }));
    expect(named.message).toBe(`cannot reach PostgreSQL at 127.0.0.1:${closed} (ECONNREFUSED); start it with \`docker compose up -d db\`, or pass --admin-url.`);
  });

  it('reports a connect timeout', async () => {
    // Accepts TCP connections and never answers.
    const sockets: import('node:net').Socket[] = [];
    const server: Server = createServer((socket) => sockets.push(socket));
    const silent = await new Promise<number>((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    try {
      const error = await rejection(
        provision(freshSpec('slow'), {
          adminUrl: `postgresql://postgres:pw@127.0.0.1:${silent}/postgres`,
          password: 'x'.repeat(40),
          connectTimeoutMs: 800,
        }),
      );
      expect(error.message).toMatch(new RegExp(`^timed out after 1s connecting to PostgreSQL at 127\\.0\\.0\\.1:${silent}`));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('needs CREATEROLE and CREATEDB (or superuser)', async () => {
    const weak = freshDbName('weak');
    const weakPw = trickyPassword();
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${c.escapeIdentifier(weak)} LOGIN CREATEDB PASSWORD ${c.escapeLiteral(weakPw)}`);
      await c.query(`GRANT CONNECT ON DATABASE postgres TO ${c.escapeIdentifier(weak)}`);
    });
    const error = await rejection(provision(freshSpec('weakapp'), { adminUrl: urlFor(adminUrl, weak, weakPw), password: 'y'.repeat(40) }));
    expect(error.message).toBe(
      `admin user ${weak} at 127.0.0.1:${port} lacks CREATEROLE; connect as a superuser (e.g. postgres) or a role with CREATEROLE and CREATEDB, with --admin-url or PGUSER`,
    );
  });

  it('works with a CREATEROLE + CREATEDB admin that is not a superuser', async () => {
    // Close every database first (as the superuser): a non-superuser can only harden what it owns.
    await provision(freshSpec('prep'), { adminUrl, password: trickyPassword() });
    const ops = freshDbName('ops');
    const opsPw = trickyPassword();
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${c.escapeIdentifier(ops)} LOGIN CREATEROLE CREATEDB PASSWORD ${c.escapeLiteral(opsPw)}`);
      await c.query(`GRANT CONNECT ON DATABASE postgres TO ${c.escapeIdentifier(ops)}`);
    });
    const spec = freshSpec('byops');
    const password = trickyPassword();
    const report = await provision(spec, { adminUrl: urlFor(adminUrl, ops, opsPw), password });
    expect(report.created).toEqual({ role: true, database: true });
    expectAllVerified(report);
    // The temporary membership used to create the database is gone again.
    await admin(async (c) => {
      const r = await c.query('SELECT pg_has_role($1, $2, $3) AS m', [ops, spec.names.user, 'MEMBER']);
      expect(r.rows[0].m).toBe(false);
    });
    const again = await provision(spec, { adminUrl: urlFor(adminUrl, ops, opsPw), password });
    expect(again.changed).toEqual([]);
  });

  it('drops the role it created when a later step fails', async () => {
    const spec = freshSpec('rollrole');
    const error = await rejection(
      provision(spec, {
        adminUrl,
        password: trickyPassword(),
        onStep: (label) => {
          if (label.startsWith('create database')) throw new Error('injected failure');
        },
      }),
    );
    expect(error.message).toContain('injected failure');
    expect(error.message).toContain(`dropped what this run created: role ${spec.names.user}`);
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: false, db: false });
  });

  it('drops the database and role it created when verification fails', async () => {
    const spec = freshSpec('rollall');
    const error = await rejection(
      provision(spec, {
        adminUrl,
        password: trickyPassword(),
        onStep: (label) => {
          if (label === 'verify') throw new UserError('verification failed (injected)');
        },
      }),
    );
    expect(error.message).toBe(
      `verification failed (injected) (dropped what this run created: database ${spec.names.db}, role ${spec.names.user})`,
    );
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: false, db: false });
  });

  it('does not drop a role or database it did not create', async () => {
    const spec = freshSpec('keep');
    const password = trickyPassword();
    await provision(spec, { adminUrl, password });
    await rejection(
      provision(spec, {
        adminUrl,
        password,
        onStep: (label) => {
          if (label === 'verify') throw new UserError('injected');
        },
      }),
    );
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: true, db: true });
  });

  it('lists login roles that only reached a database through PUBLIC, then closes it', async () => {
    const open = freshDbName('open');
    const lonely = freshDbName('lonely');
    const granted = freshDbName('granted');
    const member = freshDbName('member');
    const group = freshDbName('group');
    const pw = trickyPassword();
    await admin(async (c) => {
      const id = (s: string): string => c.escapeIdentifier(s);
      await c.query(`CREATE DATABASE ${id(open)}`);
      for (const r of [lonely, granted, member]) await c.query(`CREATE ROLE ${id(r)} LOGIN PASSWORD ${c.escapeLiteral(pw)}`);
      await c.query(`CREATE ROLE ${id(group)}`);
      await c.query(`GRANT CONNECT ON DATABASE ${id(open)} TO ${id(granted)}`);
      await c.query(`GRANT CONNECT ON DATABASE ${id(open)} TO ${id(group)}`);
      await c.query(`GRANT ${id(group)} TO ${id(member)}`);
    });
    expect(await canConnect(urlFor(adminUrl, lonely, pw, open))).toBe(true);

    const spec = freshSpec('hardener');
    const report = await provision(spec, { adminUrl, password: trickyPassword() });
    expectAllVerified(report);
    expect(report.lostPublicAccess).toContainEqual({ role: lonely, database: open, owner: 'postgres', serverWide: true });
    const forOpen = report.lostPublicAccess.filter((l) => l.database === open).map((l) => l.role);
    expect(forOpen).not.toContain(granted);
    expect(forOpen).not.toContain(member);
    expect(forOpen).not.toContain('postgres');
    expect(report.lostPublicAccess.map((l) => l.role)).not.toContain(spec.names.user);
    expect(report.changed).toContain(`revoked PUBLIC CONNECT, TEMPORARY on database ${open}`);

    expect(await canConnect(urlFor(adminUrl, lonely, pw, open))).toBe('42501');
    expect(await canConnect(urlFor(adminUrl, granted, pw, open))).toBe(true);
    expect(await canConnect(urlFor(adminUrl, member, pw, open))).toBe(true);
  });

  it.each([
    ['REPLICATION', 'LOGIN REPLICATION', 'REPLICATION'],
    ['BYPASSRLS', 'LOGIN BYPASSRLS', 'BYPASSRLS'],
    ['CREATEDB', 'LOGIN CREATEDB', 'CREATEDB'],
    ['CREATEROLE', 'LOGIN CREATEROLE', 'CREATEROLE'],
    ['SUPERUSER', 'LOGIN SUPERUSER', 'SUPERUSER'],
  ])('refuses to adopt an existing role with %s, saying why, and changes nothing', async (_name, attributes, shown) => {
    const spec = freshSpec('unsafe');
    const password = trickyPassword();
    await admin((c) => c.query(`CREATE ROLE ${c.escapeIdentifier(spec.names.user)} ${attributes} PASSWORD ${c.escapeLiteral(password)}`));
    const error = await rejection(provision(spec, { adminUrl, password }));
    expect(error.message).toMatch(new RegExp(`^role ${spec.names.user} already exists with ${shown}; create-ovu-app does not adopt a role that can reach beyond its own database`));
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: true, db: false });
  });

  it('refuses a role that belongs to a predefined role (pg_execute_server_program), also through a group', async () => {
    const spec = freshSpec('pgmember');
    const group = freshDbName('grp');
    const password = trickyPassword();
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${c.escapeIdentifier(group)}`);
      await c.query(`GRANT pg_execute_server_program TO ${c.escapeIdentifier(group)}`);
      await c.query(`CREATE ROLE ${c.escapeIdentifier(spec.names.user)} LOGIN REPLICATION BYPASSRLS PASSWORD ${c.escapeLiteral(password)}`);
      await c.query(`GRANT ${c.escapeIdentifier(group)} TO ${c.escapeIdentifier(spec.names.user)}`);
    });
    const error = await rejection(provision(spec, { adminUrl, password }));
    expect(error.message).toContain(`already exists with REPLICATION, BYPASSRLS, membership in pg_execute_server_program;`);
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: true, db: false });
  });

  it.each([
    ['empty', '', /^INV_\w+_DB_PASSWORD is empty; set it to 32\+ random printable characters/],
    ['change-me', 'change-me', /is the placeholder "change-me" \(as in \.env\.example\), not a password/],
    ['short', 'a'.repeat(31), /is 31 characters long; it must have at least 32/],
  ])('refuses a %s password before connecting', async (_name, password, message) => {
    const spec = testAppSpec(freshDbName('inv').replace(/^inv/, 'inv'));
    // A server that does not exist: the refusal comes first.
    const error = await rejection(provision(spec, { adminUrl: 'postgresql://postgres:pw@127.0.0.1:1/postgres', password }));
    expect(error.message).toMatch(message);
  });

  it('--dry-run (superuser) lists the statements and the server-wide changes, hides the password, changes nothing', async () => {
    const open = freshDbName('dryopen');
    await admin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(open)}`));
    const spec = freshSpec('dry');
    const password = trickyPassword();
    const report = await provision(spec, { adminUrl, password, dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.planned.filter((p) => !p.serverWide).map((p) => p.id)).toEqual([
      'create-role',
      'create-database',
      'revoke-public',
      'allow-connections',
      'connection-limit',
      'statement-timeout',
      'idle-timeout',
    ]);
    expect(report.planned.filter((p) => p.serverWide)).toContainEqual({
      id: 'harden-databases',
      label: `revoked PUBLIC CONNECT, TEMPORARY on database ${open}`,
      sql: `REVOKE CONNECT, TEMPORARY ON DATABASE "${open}" FROM PUBLIC`,
      serverWide: true,
    });
    expect(JSON.stringify(report)).not.toContain(password);
    expect(report.changed).toEqual([]);
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: false, db: false });
    const acl = await withClient(adminUrl, (c) => c.query<{ open: boolean }>("SELECT has_database_privilege('public', $1, 'CONNECT') AS open", [open]));
    expect(acl.rows[0]!.open).toBe(true);
  });

  it('a cancelled run (Ctrl-C) stops at the next step and drops what it created', async () => {
    const spec = freshSpec('cancel');
    const controller = new AbortController();
    const error = await rejection(
      provision(spec, {
        adminUrl,
        password: trickyPassword(),
        signal: controller.signal,
        onStep: (label) => {
          // Interrupted after CREATE DATABASE: the statement running is cancelled, or the next step sees it.
          if (label.startsWith('restrict')) controller.abort();
        },
      }),
    );
    expect(error.exitCode).toBe(130);
    expect(error.message).toBe(
      `Cancelled during provisioning of ${spec.names.db}. (dropped what this run created: database ${spec.names.db}, role ${spec.names.user})`,
    );
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: false, db: false });
  });

  it('Ctrl-C while CREATE DATABASE waits (a session on template1) cancels it at once and drops the role', async () => {
    const spec = freshSpec('cancelwait');
    const controller = new AbortController();
    const started = Date.now();
    // CREATE DATABASE waits up to 5 s for other sessions to leave its template.
    const error = await withClient(urlFor(adminUrl, 'postgres', adminPassword, 'template1'), () =>
      rejection(
        provision(spec, {
          adminUrl,
          password: trickyPassword(),
          signal: controller.signal,
          onStep: (label) => {
            if (label.startsWith('create database')) setTimeout(() => controller.abort(), 300);
          },
        }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(4000);
    expect(error.exitCode).toBe(130);
    expect(error.message).toBe(`Cancelled during provisioning of ${spec.names.db}. (dropped what this run created: role ${spec.names.user})`);
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: false, db: false });
  });

  it('refuses when the connection budget does not fit, naming the numbers and the choices', async () => {
    const spec = testAppSpec(freshDbName('huge'));
    spec.settings.processes = 150; // (2 + 1) x 150 + 1 = 451: more than the server's 400 on its own
    const error = await rejection(provision(spec, { adminUrl, password: trickyPassword() }));
    expect(error.message).toMatch(
      new RegExp(`^connection budget exceeded at 127\\.0\\.0\\.1:${port}: 3 reserved \\+ ULM \\d+ \\+ apps .*${spec.names.user} 451 = \\d+ connections, but max_connections is 400; use smaller pools \\(--db-pool-size, --db-max-overflow\\) or fewer --processes, raise max_connections on the server, or put PgBouncer in front of it$`),
    );
    expect(await exists(spec.names.user, spec.names.db)).toEqual({ role: false, db: false });
  });

  it('loads pg only when provisioning (dynamic import)', async () => {
    const source = await readFile(new URL('../../../src/database/provision.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^import (?!type )[^;]*from 'pg'/m);
    expect(source).toContain("await import('pg')");
  });

  it('the other database modules import pg only as types', async () => {
    const dir = new URL('../../../src/database/', import.meta.url);
    for (const name of await readdir(dir)) {
      const source = await readFile(new URL(name, dir), 'utf8');
      expect(source, name).not.toMatch(/^import (?!type )[^;]*from 'pg'/m);
    }
  });
});
