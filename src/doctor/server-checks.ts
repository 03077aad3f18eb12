/**
 * doctor's checks on the PostgreSQL server, when it can reach one: PUBLIC's access to every
 * database, the connection budget, and per app its database and owner, its login from its own
 * password, what that login can reach and may do (provision's verify(), the same checks), and its
 * migrations. Without a server every one of them is reported as not run.
 */
import path from 'node:path';
import type { Client } from 'pg';
import { redactUrl } from '../database/admin-url.ts';
import { budgetProblem, budgetTotal, connectionLimit } from '../database/budget.ts';
import { adminTarget, appUserConfig, connect, connectError, passwordLogsIn, type Pg } from '../database/connection.ts';
import { messageWithCode, oneLine } from '../database/error-text.ts';
import { migrationState } from '../database/migrations.ts';
import { readBudget, serverVerifier, stillOpen } from '../database/server-state.ts';
import { renderNodeQuery } from '../database/render.ts';
import { LOST_PUBLIC_ACCESS_QUERY } from '../database/statements.ts';
import { USERLIST_FILE } from '../workspace/pgbouncer/index.ts';
import { readIfExists } from '../workspace/workspace.ts';
import { readVerifier } from '../workspace/verifiers.ts';
import { databaseServiceName } from '../workspace/compose/db-service-name.ts';
import { verify } from '../database/verify.ts';
import { STACKS } from '../stacks/index.ts';
import { failed, ok, skipped, warning, type DoctorCheck } from './check.ts';
import type { AuditedApp } from './workspace-checks.ts';

export interface ServerAuditOptions {
  /** The workspace root, for the paths in messages and the stored verifiers (ovu-db-init/verifiers/.env, PgBouncer's userlist). */
  root: string;
  /** The logins of every crud app of the workspace: closing their databases is app-local, others' server-wide. */
  workspaceRoles?: string[];
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** The ids a server audit reports per app when it cannot run. */
const notRun = (apps: AuditedApp[], why: string): DoctorCheck[] => [
  skipped('server.public', `not run: ${why}`),
  skipped('server.budget', `not run: ${why}`),
  ...apps.flatMap((a) => ['database', 'login', 'isolation', 'migrations'].map((c) => skipped(`app.${a.dir}.${c}`, `not run: ${why}`))),
];

interface DatabaseRow {
  name: string;
  owner: string;
  privileges: string[];
  /** The admin has the owner's privileges (a superuser always): it may revoke there. */
  changeable: boolean;
}

const PUBLIC_PRIVILEGES_QUERY = `SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner, pg_has_role(d.datdba, 'USAGE') AS changeable,
  array_remove(ARRAY[
    CASE WHEN has_database_privilege('public', d.oid, 'CONNECT') THEN 'CONNECT' END,
    CASE WHEN has_database_privilege('public', d.oid, 'TEMPORARY') THEN 'TEMPORARY' END,
    CASE WHEN has_database_privilege('public', d.oid, 'CREATE') THEN 'CREATE' END], NULL) AS privileges
FROM pg_database d WHERE d.datallowconn ORDER BY d.datname`;

export async function auditServer(adminUrl: string | { none: string }, apps: AuditedApp[], opts: ServerAuditOptions): Promise<DoctorCheck[]> {
  const crud = apps.filter((a) => a.spec.settings.kind === 'crud');
  if (crud.length === 0) return [];
  // No server named and none recorded: say so rather than audit whatever localhost is.
  if (typeof adminUrl !== 'string') return [skipped('server.connect', `no server checked: ${adminUrl.none}`), ...notRun(crud, 'no server named')];
  const timeoutMs = opts.connectTimeoutMs ?? 5000;
  const { default: pg } = await import('pg');
  const target = adminTarget(pg, adminUrl);
  const secrets = [decodeURIComponent(new URL(adminUrl).password), ...crud.flatMap((a) => (a.password ? [a.password] : []))];
  let admin: Client;
  try {
    admin = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: timeoutMs }, opts.signal);
  } catch (error) {
    const why = connectError(error, target, timeoutMs, secrets, databaseServiceName(opts.root, readIfExists)).message;
    return [skipped('server.connect', `no server checked: ${why}`), ...notRun(crud, `no server at ${target.where}`)];
  }
  try {
    return await checks(pg, admin, adminUrl, crud, timeoutMs, opts.root, secrets, new Set(opts.workspaceRoles ?? crud.map((a) => a.spec.names.user)));
  } catch (error) {
    return [failed('server.connect', `the server checks stopped at ${target.where}: ${oneLine(messageWithCode(error), secrets)}`)];
  } finally {
    await admin.end().catch(() => {});
  }
}

async function checks(pg: Pg, admin: Client, adminUrl: string, apps: AuditedApp[], timeoutMs: number, root: string, secrets: string[], ours: Set<string>): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const me = (await admin.query<{ name: string; superuser: boolean; version: string }>(
    "SELECT current_user AS name, rolsuper AS superuser, current_setting('server_version') AS version FROM pg_roles WHERE rolname = current_user",
  )).rows[0];
  const where = adminTarget(pg, adminUrl).where;
  out.push(ok('server.connect', `${redactUrl(adminUrl)}: PostgreSQL ${me?.version ?? '?'}, admin ${me?.name ?? '?'}${me?.superuser ? ' (superuser)' : ''}`));

  // PUBLIC: no CONNECT, TEMPORARY or CREATE on any database; one only its owner can close is a warning.
  const open = await stillOpen(admin);
  const dbs = (await admin.query<DatabaseRow>(PUBLIC_PRIVILEGES_QUERY)).rows;
  // Who loses access when PUBLIC's CONNECT goes: the plan names them, database by database.
  const losers = (await admin.query<{ role: string; database: string }>(renderNodeQuery(LOST_PUBLIC_ACCESS_QUERY, { exclude: '' }, admin))).rows;
  for (const d of dbs) {
    const id = `server.public.${d.name}`;
    if (d.privileges.length === 0) {
      out.push(ok(id, `PUBLIC has no CONNECT, TEMPORARY or CREATE on ${d.name}`));
      continue;
    }
    const sql = `REVOKE ${d.privileges.join(', ')} ON DATABASE ${/^[a-z_][a-z0-9_]*$/.test(d.name) ? d.name : admin.escapeIdentifier(d.name)} FROM PUBLIC`;
    const what = `PUBLIC has ${d.privileges.join(', ')} on ${d.name}: every login can ${d.privileges.includes('CONNECT') ? 'connect to it' : 'use it'}`;
    if (d.changeable) {
      // Another team's database (or postgres, template1): a server-wide change, named as such with who loses access.
      const serverWide = !ours.has(d.owner);
      const lose = losers.filter((l) => l.database === d.name).map((l) => l.role);
      const label = `revoke PUBLIC's ${d.privileges.join(', ')} on ${d.name}${serverWide ? ` (server-wide: owned by ${d.owner}, not by this workspace's apps)` : ''}; ${lose.length ? `loses access: ${lose.join(', ')}` : 'no login loses access'}`;
      out.push(failed(id, what, `doctor --fix runs ${sql}`, { kind: 'sql', label, sql, ...(serverWide ? { serverWide: true } : {}) }));
    }
    else {
      const statement = open.find((o) => o.database === d.name)?.statement ?? `${sql};`;
      out.push(warning(id, `${what}, and only its owner ${d.owner} (or a superuser) can close it`, `as ${d.owner}: ${statement}`));
    }
  }

  // The connection budget: every login's limit, ULM and the reserved slots within max_connections.
  const budget = await readBudget(admin);
  const problem = budgetProblem(budget, where);
  const total = budgetTotal(budget);
  out.push(problem ? failed('server.budget', problem) : ok('server.budget', `connection limits ${total} of max_connections ${budget.maxConnections} (${budget.reserved} reserved, ULM ${budget.ulm}, ${budget.apps.length} app login(s))`));

  for (const app of apps) out.push(...(await appChecks(pg, admin, adminUrl, app, timeoutMs, root, open, secrets)));
  return out;
}

async function appChecks(
  pg: Pg,
  admin: Client,
  adminUrl: string,
  app: AuditedApp,
  timeoutMs: number,
  root: string,
  open: Awaited<ReturnType<typeof stillOpen>>,
  secrets: string[],
): Promise<DoctorCheck[]> {
  const { names, settings } = app.spec;
  const { user, db } = names;
  const p = `app.${app.dir}`;
  const provision = `create-ovu-app provision ${app.dir}`;
  const out: DoctorCheck[] = [];
  const row = (
    await admin.query<{ owner: string | null; role: boolean }>(
      `SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1) AS owner, EXISTS (SELECT FROM pg_roles WHERE rolname = $2) AS role`,
      [db, user],
    )
  ).rows[0]!;
  if (row.owner === null) out.push(failed(`${p}.database`, `database ${db} does not exist`, `run \`${provision}\``));
  else if (row.owner !== user) out.push(failed(`${p}.database`, `database ${db} is owned by ${row.owner}, not ${user}`, `ALTER DATABASE ${db} OWNER TO ${user}; (as ${row.owner} or a superuser)`));
  else out.push(ok(`${p}.database`, `database ${db} exists, owned by ${user}`));

  const later = (why: string): DoctorCheck[] => [skipped(`${p}.isolation`, `not run: ${why}`), skipped(`${p}.migrations`, `not run: ${why}`)];
  if (!row.role) return [...out, failed(`${p}.login`, `login ${user} does not exist`, `run \`${provision}\``), ...later(`${user} does not exist`)];
  if (app.password === undefined) return [...out, skipped(`${p}.login`, `not run: ${app.dir} has no usable password`), ...later(`${app.dir} has no usable password`)];
  const appConfig = appUserConfig(adminUrl, user, timeoutMs);
  const login = await passwordLogsIn(pg, appConfig(db, app.password));
  if (login !== true) {
    const message = login === '28P01' ? `the password in ${app.dir}/.env does not log in as ${user}` : `${user} cannot log in: ${oneLine(login, secrets)}`;
    return [...out, failed(`${p}.login`, message, login === '28P01' ? `if ${app.dir}/.env has the right one, \`${provision} --reset-password\`` : undefined), ...later(`${user} cannot log in`)];
  }
  out.push(ok(`${p}.login`, `${user} logs in with the password in ${app.dir}/.env`));
  out.push(await verifierCheck(pg, admin, app, appConfig(db, app.password), root));

  // What provision verifies, from the app login's side, with its own password.
  const limit = connectionLimit(settings.pool, settings.processes);
  for (const c of await verify(pg, admin, app.spec, app.password, appConfig, { stillOpen: open, connectionLimit: limit })) {
    const id = `${p}.${c.id}`;
    if (c.status === 'ok') out.push(ok(id, c.label));
    else if (c.status === 'warning') out.push(warning(id, c.label, c.label.split(': ').slice(-1)[0]));
    else out.push(failed(id, c.id === 'memberships' || c.id.startsWith('refused.') ? c.label : `expected: ${c.label}; it is not so`, verifyFix(c.id, user, provision)));
  }

  // Migrations, read as the app's login from its own database.
  if (row.owner !== user) return [...out, skipped(`${p}.migrations`, `not run: ${db} is not ${user}'s`)];
  try {
    const client = await connect(pg, appConfig(db, app.password));
    try {
      const state = await migrationState(client, settings.stack, app.backendDir);
      const migrate = `cd ${path.relative(root, app.backendDir)} && ${STACKS[settings.stack].migrate.shown}`;
      out.push(state.atHead ? ok(`${p}.migrations`, `${db}: ${state.message}`) : failed(`${p}.migrations`, `${db}: ${state.message}`, `\`${migrate}\` (or \`${provision} --migrate\`)`));
    } finally {
      await client.end().catch(() => {});
    }
  } catch (error) {
    out.push(failed(`${p}.migrations`, `cannot read ${db}'s migrations as ${user}: ${oneLine(messageWithCode(error), secrets)}`));
  }
  return out;
}

function verifyFix(id: string, user: string, provision: string): string {
  if (id.startsWith('refused.')) {
    const other = id.slice('refused.'.length);
    return `take back what lets ${user} in: PUBLIC's CONNECT (server.public.${other}) or a GRANT CONNECT ON DATABASE ${other} to ${user} or a role it is in`;
  }
  switch (id) {
    case 'superuser':
    case 'createdb':
    case 'createrole':
    case 'replication-bypassrls':
      return `ALTER ROLE ${user} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; (as a superuser)`;
    case 'predefined-roles':
      return `REVOKE pg_… FROM ${user}; for each predefined role it is in`;
    case 'memberships':
      return `\`${provision} --revoke-memberships\` ends them (or REVOKE them yourself)`;
    default:
      return `run \`${provision}\``;
  }
}

/**
 * One verifier per role: the server's (pg_authid for a superuser, else learnt from a real login)
 * must be the string the workspace .env and PgBouncer's userlist keep, or PgBouncer cannot log in.
 */
async function verifierCheck(pg: Pg, admin: Client, app: AuditedApp, config: Parameters<typeof serverVerifier>[4], root: string): Promise<DoctorCheck> {
  const { user, verifierVar } = app.spec.names;
  const id = `app.${app.dir}.server-verifier`;
  const onServer = await serverVerifier(pg, admin, user, app.password!, config);
  if (onServer === undefined) return skipped(id, `not run: the server's verifier of ${user} could not be read`);
  const stored = readVerifier(readIfExists, root, verifierVar);
  const userlist = readIfExists(path.join(root, USERLIST_FILE));
  const entry = userlist === undefined ? undefined : new RegExp(`^"${user}" "([^"\\n]*)"$`, 'm').exec(userlist)?.[1];
  const wrong = [stored !== undefined && stored !== onServer ? `${verifierVar} in the workspace` : '', entry !== undefined && entry !== onServer ? USERLIST_FILE : ''].filter(Boolean);
  if (wrong.length === 0) return ok(id, `the server's password verifier of ${user} is the one ${entry !== undefined ? `the workspace and ${USERLIST_FILE} keep` : 'the workspace keeps'}`);
  return failed(
    id,
    `the server's password verifier of ${user} is not the one in ${wrong.join(' and ')} (same password, another salt): ${entry !== undefined ? 'PgBouncer cannot log in as it' : 'ovu-db-init and the server disagree'}`,
    `run \`create-ovu-app provision ${app.dir}\`: it gives the role the workspace's verifier`,
  );
}
