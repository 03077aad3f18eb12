/**
 * Create an app's role and database on a running PostgreSQL (the same statements as its init-db.sql
 * block, from statements.ts), harden the server, verify the result from the app user's side
 * (verify.ts), and drop what this run created if a step fails or the run is cancelled.
 *
 * The admin is a superuser or a CREATEROLE + CREATEDB role (managed PostgreSQL), on 15 to 18. The
 * password never reaches the server: roles get a SCRAM-SHA-256 verifier computed here (scram.ts).
 * Provisions serialise on an advisory lock (PROVISION_LOCK_KEY), which init-db.sql blocks take too.
 *
 * `pg` is loaded with a dynamic import inside provision() so that `--help` and every command that
 * never talks to PostgreSQL do not load it.
 */
import type { Client } from 'pg';
import { CancelledError, UserError } from '../errors.ts';
import { parseAdminUrl, redactUrl, resolveAdminUrl } from './admin-url.ts';
import { apply, plan, statement, type Applied } from './apply.ts';
import { type Budget, budgetProblem, serverConnectionLimit } from './budget.ts';
import { adminTarget, appUserConfig, connect, connectError, passwordLogsIn } from './connection.ts';
import { messageWithCode, oneLine } from './error-text.ts';
import { PASSWORD_FIX, passwordProblem } from './passwords.ts';
import { renderNodeQuery } from './render.ts';
import { scramVerifier, verifierMatches } from './scram.ts';
import { explainPermission, labelFor, planAll, rollback, serverWideTargets, verifierStatement, type PlannedStatement } from './provision-steps.ts';
import { lock, memberships, membershipRevokes, membershipText, readBudget, serverVerifier, stillOpen, type Memberships, type StillOpen } from './server-state.ts';
import {
  APP_STATEMENTS,
  LOST_PUBLIC_ACCESS_QUERY,
  SERVER_HARDENING,
  WORKSPACE_HARDENING,
  appValues,
  type SqlStatement,
  type SqlValues,
} from './statements.ts';
import { type Check, verify } from './verify.ts';
import type { AppSpec } from '../app/spec.ts';

export interface ProvisionOptions {
  /** Admin connection URL; default resolveAdminUrl(undefined, env). */
  adminUrl?: string;
  /** Environment for the PG* fallback (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The app user's password (the value of its <SNAKE>_DB_PASSWORD in <app>/.env). */
  password: string;
  /**
   * The password's SCRAM verifier as the workspace stores it (<APP>_DB_VERIFIER in ovu-db-init/verifiers/.env, PgBouncer's
   * userlist): the role gets exactly this one, so every place holds the same string. Default: a new one.
   */
  verifier?: string;
  /** Every app login of the workspace: databases they own are hardened without asking (default: this app's). */
  workspaceRoles?: string[];
  /** Consent to close databases the workspace's apps do not own to PUBLIC (server-wide; default true). */
  serverWide?: boolean;
  /** Consent to end the login's role memberships (members of it, roles it is in); without it such a login is refused. */
  revokeMemberships?: boolean;
  /** If the role exists and `password` does not log in, set the role's password to it. */
  resetPassword?: boolean;
  /** Change nothing: run the checks and return the statements a run would execute (report.planned). */
  dryRun?: boolean;
  /** Aborting it (Ctrl-C) stops the run at the next step and drops what it created. */
  signal?: AbortSignal;
  /** Called before each step with a short label (progress output; tests use it to inject failures). */
  onStep?: (label: string) => void;
  /** The workspace's database service (compose), named in the hint when the server cannot be reached. */
  dbService?: string;
  /** Connect timeout in milliseconds (default 5000). */
  connectTimeoutMs?: number;
  /** How long to wait for another provision holding the lock (default 60000). */
  lockTimeoutMs?: number;
}

export type { PlannedStatement } from './provision-steps.ts';
export type { StillOpen } from './server-state.ts';
// Kept here for callers that import them from provision.
export { lock, readBudget, stillOpen } from './server-state.ts';

export interface ProvisionReport {
  dryRun: boolean;
  /** Where it ran: host:port, the server's version, the admin. */
  server: { where: string; host: string; port: number; version: string; admin: string; superuser: boolean };
  /** What this run created. */
  created: { role: boolean; database: boolean };
  /** Every change this run made, one line each; empty when everything was already in place (and on a dry run). */
  changed: string[];
  /** Dry run: every statement a run would execute now, in order. */
  planned: PlannedStatement[];
  /** The checks run after the changes, from the app user's side. */
  verified: Check[];
  /** Login roles that could reach a database only through PUBLIC, which this run revoked (or would); serverWide: not a workspace app's database. */
  lostPublicAccess: { role: string; database: string; owner: string; serverWide: boolean }[];
  /** Databases the workspace's apps do not own that stay open to PUBLIC because there was no consent. */
  serverWideSkipped: { database: string; owner: string }[];
  /** The login's memberships this run ended (or would). */
  memberships: Memberships;
  /** The role's verifier: the workspace's one given to a new role, set on an existing role whose differed, or already the same. */
  verifier: 'created' | 'set' | 'same';
  /** Databases still open to PUBLIC that this admin could not close. */
  stillOpen: StillOpen[];
  /** The app login's CONNECTION LIMIT and the server's connection budget with it. */
  connectionLimit: number;
  budget: Budget;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

export async function provision(spec: AppSpec, opts: ProvisionOptions): Promise<ProvisionReport> {
  const env = opts.env ?? process.env;
  const adminUrl = opts.adminUrl ?? resolveAdminUrl(undefined, env);
  const parsed = parseAdminUrl(adminUrl);
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { user: role, db, passwordVar } = spec.names;
  const weak = passwordProblem(opts.password, passwordVar);
  if (weak) throw new UserError(`${weak}; ${PASSWORD_FIX}.`);
  const dryRun = opts.dryRun === true;
  const step = (label: string): void => {
    if (opts.signal?.aborted) throw new CancelledError(`Cancelled during provisioning of ${db}.`);
    opts.onStep?.(label);
  };

  const { default: pg } = await import('pg');
  const adminPassword = decodeURIComponent(parsed.password) || env.PGPASSWORD || '';
  const target = adminTarget(pg, adminUrl);
  const appConfig = appUserConfig(adminUrl, role, timeoutMs);
  const limit = serverConnectionLimit(spec.settings);
  // The workspace's verifier when given (the command always gives one); a library caller without one
  // gets a new verifier for a new role and leaves an existing role's own alone.
  const wanted = opts.verifier !== undefined && verifierMatches(opts.password, opts.verifier) ? opts.verifier : undefined;
  const verifier = wanted ?? scramVerifier(opts.password);
  const owners = [...new Set([role, ...(opts.workspaceRoles ?? [])])].join(',');
  const serverWide = opts.serverWide !== false;
  const values = appValues(spec, verifier, { connLimit: limit });
  const secrets = [adminPassword, opts.password, verifier];
  const shown: SqlValues = { ...values, verifier: '***' };
  /** An unexpected error as a one-line UserError without secrets or a raw SQLSTATE. */
  const failure = (error: unknown, undo = ''): UserError =>
    new UserError(oneLine(`provisioning ${db} failed at ${target.where}: ${messageWithCode(error)}${undo}`, secrets));

  step(`connect to ${redactUrl(adminUrl)}`);
  let admin: Client;
  try {
    admin = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: timeoutMs }, opts.signal);
  } catch (error) {
    if (opts.signal?.aborted) throw new CancelledError(`Cancelled while connecting to ${target.where}: nothing was changed.`);
    throw connectError(error, target, timeoutMs, secrets, opts.dbService);
  }

  // Ctrl-C while a statement runs (CREATE DATABASE waiting for template1, the lock wait): cancel
  // it from a second connection, so the run stops now and rolls back instead of waiting.
  const backendPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').catch(() => ({ rows: [] as { pid: number }[] }))).rows[0]?.pid;
  let cancelling = false;
  const onAbort = (): void => {
    if (backendPid === undefined || cancelling) return;
    cancelling = true;
    void (async () => {
      const other = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: timeoutMs }).catch(() => undefined);
      if (!other) return;
      await other.query('SELECT pg_cancel_backend($1)', [backendPid]).catch(() => {});
      await other.end().catch(() => {});
    })();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const report: ProvisionReport = {
    dryRun,
    server: { where: target.where, host: target.host, port: target.port, version: '', admin: target.user, superuser: false },
    created: { role: false, database: false },
    changed: [],
    planned: [],
    verified: [],
    lostPublicAccess: [],
    serverWideSkipped: [],
    memberships: { members: [], memberOf: [] },
    verifier: 'same',
    stillOpen: [],
    connectionLimit: limit,
    budget: { maxConnections: 0, reserved: 0, ulm: 0, apps: [] },
  };
  /** Statements that ran for the app and are not yet undone (the admin's membership). */
  let membershipHeld = false;

  /** Run one app statement; a permission error says what the admin lacks. */
  const run = async (s: SqlStatement): Promise<Applied[]> => {
    try {
      const done = await apply(admin, s, values, shown);
      if (done.length > 0 && s.id.startsWith('admin-membership') && s.id !== 'admin-membership-end') membershipHeld = true;
      if (s.id === 'admin-membership-end' && done.length > 0) membershipHeld = false;
      for (const d of done) if (!d.transient) report.changed.push(d.label);
      return done;
    } catch (error) {
      throw explainPermission(error, s, role, report.server.admin, report.server.where);
    }
  };

  try {
    step('check admin privileges');
    const me = (
      await admin.query<{ name: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; version: string }>(
        "SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, current_setting('server_version') AS version FROM pg_roles WHERE rolname = current_user",
      )
    ).rows[0];
    if (!me) throw new UserError(`cannot read the attributes of the admin user at ${target.where}`);
    report.server = { ...report.server, admin: me.name, superuser: me.rolsuper, version: me.version };
    if (!me.rolsuper && !(me.rolcreaterole && me.rolcreatedb)) {
      const missing = [me.rolcreaterole ? '' : 'CREATEROLE', me.rolcreatedb ? '' : 'CREATEDB'].filter(Boolean).join(' and ');
      throw new UserError(
        `admin user ${me.name} at ${target.where} lacks ${missing}; connect as a superuser (e.g. postgres) or a role with CREATEROLE and CREATEDB, with --admin-url or PGUSER`,
      );
    }

    if (!dryRun) {
      // One provision (or init-db.sql block) at a time on this server: concurrent GRANT/REVOKE
      // on the same catalog rows fail with "tuple concurrently updated".
      step('wait for other provisions on this server');
      await lock(admin, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, target.where);
    }

    const existing = (
      await admin.query<{ role_exists: boolean; limit: number | null }>(
        `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}) AS role_exists,
                (SELECT rolconnlimit FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}) AS limit`,
      )
    ).rows[0];
    if (!existing) throw new Error('no row from the existence query');

    // Refuse a database that belongs to someone else, or a role with more than an app login's
    // privileges, before changing anything.
    step(`check owner of ${db} and attributes of ${role}`);
    await plan(admin, statement(APP_STATEMENTS, 'database-owner'), values, shown);
    await plan(admin, statement(APP_STATEMENTS, 'role-safe'), values, shown);

    step('check the connection budget');
    report.budget = await readBudget(admin, { role, limit });
    const overBudget = budgetProblem(report.budget, target.where);
    // Refused when this run would take more than the role has now: a new role, or a higher limit
    // (an existing role without a limit, -1, only gets safer). Rerunning an app in place is not.
    const grows = !existing.role_exists || (existing.limit !== null && existing.limit >= 0 && existing.limit < limit);
    if (overBudget && grows) throw new UserError(overBudget);

    // A login others can SET ROLE into, or that has other roles' rights, is not only the app's.
    step(`check the role memberships of ${role}`);
    const held = existing.role_exists ? await memberships(admin, role) : { members: [], memberOf: [] };
    const revokes = membershipRevokes(admin, role, held);
    if (revokes.length > 0 && !opts.revokeMemberships) {
      throw new UserError(
        `role ${role} at ${target.where} is shared: ${membershipText(role, held)}; an app login must be its own: rerun with --revoke-memberships to end ${revokes.length === 1 ? 'that membership' : 'those memberships'} (${revokes.join('; ')}), or remove them yourself`,
      );
    }
    if (revokes.length > 0) report.memberships = held;

    // The role's verifier is the workspace's (ovu-db-init/verifiers/.env, PgBouncer's userlist): set it when the server's differs.
    let setVerifier: 'reset' | 'sync' | undefined;
    if (existing.role_exists) {
      step(`check the password of ${role}`);
      const login = await passwordLogsIn(pg, appConfig(db, opts.password));
      if (login !== true) {
        if (login !== '28P01') {
          throw new UserError(`role ${role} exists but cannot log in at ${target.where}: ${oneLine(login, secrets)}`);
        }
        if (!opts.resetPassword) {
          throw new UserError(
            `role ${role} exists but the password in ${spec.names.slug}/.env (${passwordVar}) does not log in; rerun with --reset-password to set it to that value`,
          );
        }
        setVerifier = 'reset';
      } else if (wanted !== undefined && (await serverVerifier(pg, admin, role, opts.password, appConfig(db, opts.password))) !== wanted) {
        setVerifier = 'sync';
      }
    }

    // Who loses access when PUBLIC's CONNECT goes (computed before anything is revoked).
    step('list roles that only reach a database through PUBLIC');
    const ownerSet = new Set(owners.split(','));
    report.lostPublicAccess = (
      await admin.query<{ role: string; database: string; owner: string }>(renderNodeQuery(LOST_PUBLIC_ACCESS_QUERY, { exclude: role }, admin))
    ).rows
      .map((r) => ({ role: r.role, database: r.database, owner: r.owner, serverWide: !ownerSet.has(r.owner) && r.database !== db }))
      .filter((r) => serverWide || !r.serverWide);
    if (!serverWide) report.serverWideSkipped = await serverWideTargets(admin, owners);

    const before: PlannedStatement[] = [
      ...revokes.map((sql, i) => ({ id: `revoke-membership-${i + 1}`, label: `ended a membership of ${role}`, sql, serverWide: false })),
      ...(setVerifier ? [{ id: 'set-verifier', label: verifierLabel(setVerifier, role, spec.names.slug), sql: verifierStatement(admin, role), serverWide: false }] : []),
    ];
    if (dryRun) {
      report.planned = await planAll(admin, values, shown, before, { owners, serverWide });
      report.stillOpen = await stillOpen(admin);
      return report;
    }

    try {
      for (const [i, sql] of revokes.entries()) {
        step(`end a membership of ${role}`);
        try {
          await admin.query(sql);
        } catch (error) {
          throw explainPermission(error, { id: `revoke-membership-${i + 1}` }, role, me.name, target.where);
        }
        report.changed.push(`ended a membership of ${role}: ${sql}`);
      }
      // On 16+ a REVOKE ends only the grants its own grantor made (others give a WARNING, not an error).
      const left = revokes.length > 0 ? await memberships(admin, role) : held;
      const still = membershipRevokes(admin, role, left);
      if (revokes.length > 0 && still.length > 0) {
        throw new UserError(
          `admin ${me.name} at ${target.where} could not end every membership of ${role} (${membershipText(role, left)}): another role granted ${still.length === 1 ? 'it' : 'them'}; have a superuser run ${still.join('; ')}, then provision again`,
        );
      }
      if (setVerifier) {
        step(`set the password verifier of ${role}`);
        try {
          await admin.query(`ALTER ROLE ${admin.escapeIdentifier(role)} PASSWORD ${admin.escapeLiteral(verifier)}`);
        } catch (error) {
          throw explainPermission(error, { id: setVerifier === 'reset' ? 'reset-password' : 'set-verifier' }, role, me.name, target.where);
        }
        report.verifier = 'set';
        report.changed.push(verifierLabel(setVerifier, role, spec.names.slug));
      }
      for (const s of APP_STATEMENTS) {
        if (s.kind === 'assert') continue;
        step(labelFor(s, role, db));
        const done = await run(s);
        if (s.id === 'create-role') report.created.role = done.length > 0;
        if (s.id === 'create-database') report.created.database = done.length > 0;
      }
      if (report.created.role) report.verifier = 'created';

      step(serverWide ? 'revoke PUBLIC CONNECT, TEMPORARY on every database' : "revoke PUBLIC CONNECT, TEMPORARY on the workspace's databases");
      for (const s of serverWide ? [WORKSPACE_HARDENING, SERVER_HARDENING] : [WORKSPACE_HARDENING]) {
        for (const d of await apply(admin, s, { owners })) report.changed.push(d.label);
      }
      report.stillOpen = await stillOpen(admin);

      step('verify');
      const leftOpen = report.serverWideSkipped.map((d) => ({ ...d, statement: `REVOKE CONNECT, TEMPORARY ON DATABASE ${admin.escapeIdentifier(d.database)} FROM PUBLIC;`, reason: 'a server-wide change this run had no consent for' }));
      report.verified = await verify(pg, admin, spec, opts.password, appConfig, { stillOpen: [...report.stillOpen, ...leftOpen], connectionLimit: limit });
      const failed = report.verified.filter((v) => v.status === 'failed');
      if (failed.length > 0) {
        throw new UserError(`verification failed for ${role}: ${failed.map((f) => f.label).join('; ')}`);
      }
    } catch (caught) {
      const error = opts.signal?.aborted && !(caught instanceof CancelledError) ? new CancelledError(`Cancelled during provisioning of ${db}.`) : caught;
      const undo = await rollback(admin, report.created, role, db, values);
      membershipHeld = false;
      if (error instanceof UserError) {
        error.message = oneLine(`${error.message}${undo}`, secrets);
        throw error;
      }
      throw failure(error, undo);
    }
    return report;
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (opts.signal?.aborted) throw new CancelledError(`Cancelled during provisioning of ${db}.`);
    throw failure(error);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (membershipHeld) await apply(admin, statement(APP_STATEMENTS, 'admin-membership-end'), values).catch(() => {});
    await admin.end().catch(() => {});
  }
}


function verifierLabel(kind: 'reset' | 'sync', role: string, slug: string): string {
  return kind === 'reset'
    ? `set the password of role ${role} to the value in ${slug}/.env`
    : `gave role ${role} the password verifier ovu-db-init/verifiers/.env and PgBouncer's userlist keep (same password, another salt before)`;
}
