/**
 * What provision and doctor read from a server beside the app's own objects: the provisioning
 * lock, the databases left open to PUBLIC, the connection budget, a login's role memberships and
 * the SCRAM verifier the server holds for a login.
 */
import type { Client, ClientConfig } from 'pg';
import { UserError } from '../errors.ts';
import { type Budget, ULM_ASSUMED_CONNECTIONS, ULM_ROLE } from './budget.ts';
import type { Pg } from './connection.ts';
import { errorCode } from './error-text.ts';
import { scramVerifier } from './scram.ts';
import { PROVISION_LOCK_KEY, STILL_OPEN_QUERY } from './statements.ts';

/** A database that stays open to PUBLIC because this admin cannot revoke there. */
export interface StillOpen {
  database: string;
  owner: string;
  /** What its owner (or a superuser) must run. */
  statement: string;
}

/** Take the provisioning lock, waiting at most `timeoutMs`. */
export async function lock(admin: Client, timeoutMs: number, where: string): Promise<void> {
  await admin.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await admin.query(`SELECT pg_advisory_lock(${PROVISION_LOCK_KEY})`);
  } catch (error) {
    if (errorCode(error) === '55P03') {
      throw new UserError(
        `another create-ovu-app provision (or init-db.sql run) has held the provisioning lock at ${where} for over ${Math.round(timeoutMs / 1000)}s; wait for it to finish and run provision again`,
      );
    }
    throw error;
  } finally {
    await admin.query('RESET lock_timeout').catch(() => {});
  }
}

export async function stillOpen(admin: Client): Promise<StillOpen[]> {
  return (await admin.query<StillOpen>(STILL_OPEN_QUERY)).rows.map((r) => ({ database: r.database, owner: r.owner, statement: r.statement }));
}

/** The server's connection budget with this app's login at `limit` (without `app`: as the server has it). */
export async function readBudget(admin: Client, app?: { role: string; limit: number }): Promise<Budget> {
  const role = app?.role ?? '';
  const row = (
    await admin.query<{ max: number; reserved: number; ulm: number | null }>(
      `SELECT current_setting('max_connections')::int AS max,
              current_setting('superuser_reserved_connections')::int + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
              (SELECT rolconnlimit FROM pg_roles WHERE rolname = ${admin.escapeLiteral(ULM_ROLE)}) AS ulm`,
    )
  ).rows[0]!;
  const others = (
    await admin.query<{ role: string; limit: number }>(
      `SELECT rolname AS role, rolconnlimit AS limit FROM pg_roles
       WHERE rolcanlogin AND NOT rolsuper AND rolconnlimit >= 0 AND rolname NOT IN (${admin.escapeLiteral(role)}, ${admin.escapeLiteral(ULM_ROLE)})
       ORDER BY rolname`,
    )
  ).rows;
  const ulm = row.ulm === null ? 0 : row.ulm < 0 ? ULM_ASSUMED_CONNECTIONS : row.ulm;
  return { maxConnections: row.max, reserved: row.reserved, ulm, apps: app ? [...others, app] : others };
}

/**
 * A login's role memberships in both directions, predefined roles (pg_…) left out (role-safe
 * refuses those): `members` can SET ROLE into the login (or inherit its rights, its database
 * included); `memberOf` are roles whose rights the login has beside its own. The admin's own
 * membership (a CREATEROLE admin's ADMIN OPTION) is not one.
 */
export interface Memberships {
  members: string[];
  memberOf: string[];
}

/**
 * A grant that gives SET ROLE or the role's rights. On 16+ a CREATEROLE admin holds every role it
 * created WITH ADMIN OPTION but neither SET nor INHERIT: that one is not counted (15 has no such columns).
 */
const USABLE = "(coalesce((to_jsonb(a) ->> 'set_option')::boolean, true) OR coalesce((to_jsonb(a) ->> 'inherit_option')::boolean, true))";

export async function memberships(admin: Client, role: string): Promise<Memberships> {
  const row = (
    await admin.query<{ members: string[] | null; member_of: string[] | null }>(
      `SELECT
         (SELECT array_agg(DISTINCT m.rolname::text ORDER BY m.rolname::text) FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
           WHERE r.rolname = $1 AND m.rolname <> current_user AND ${USABLE}) AS members,
         (SELECT array_agg(DISTINCT g.rolname::text ORDER BY g.rolname::text) FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member JOIN pg_roles g ON g.oid = a.roleid
           WHERE r.rolname = $1 AND NOT starts_with(g.rolname, 'pg_') AND ${USABLE}) AS member_of`,
      [role],
    )
  ).rows[0];
  return { members: row?.members ?? [], memberOf: row?.member_of ?? [] };
}

/** The statements that end `m` (what provision's consent runs, and what doctor names). */
export function membershipRevokes(admin: Pick<Client, 'escapeIdentifier'>, role: string, m: Memberships): string[] {
  // Quoted only when it must be: the statement is shown to the person as it runs.
  const id = (name: string): string => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : admin.escapeIdentifier(name));
  return [...m.members.map((x) => `REVOKE ${id(role)} FROM ${id(x)}`), ...m.memberOf.map((x) => `REVOKE ${id(x)} FROM ${id(role)}`)];
}

/** One line naming the memberships, e.g. "mallory can SET ROLE to inv_user; inv_user is a member of ops". */
export function membershipText(role: string, m: Memberships): string {
  const parts: string[] = [];
  if (m.members.length) parts.push(`${m.members.join(', ')} ${m.members.length === 1 ? 'is a member' : 'are members'} of ${role} (can SET ROLE to it and reach its database)`);
  if (m.memberOf.length) parts.push(`${role} is a member of ${m.memberOf.join(', ')} (has their rights beside its own)`);
  return parts.join('; ');
}

/**
 * The SCRAM verifier the server holds for `role`: read from pg_authid by a superuser; otherwise
 * (a CREATEROLE admin cannot read it) learnt by logging in as the role with `password`: the
 * server sends the verifier's salt and iteration count, and with the password that is the
 * verifier. undefined when neither works (the password does not log in).
 */
export async function serverVerifier(pg: Pg, admin: Client, role: string, password: string, config: ClientConfig): Promise<string | undefined> {
  const direct = await admin
    .query<{ v: string | null }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [role])
    .then((r) => r.rows[0]?.v ?? undefined)
    .catch(() => undefined);
  if (direct !== undefined) return direct;
  let serverFirst = '';
  const client = new pg.Client(config);
  client.on('error', () => {});
  (client as unknown as { connection: { on(e: string, f: (m: { data: string }) => void): void } }).connection.on('authenticationSASLContinue', (m) => {
    serverFirst = m.data;
  });
  try {
    await client.connect();
  } catch (error) {
    // Authentication happens before the database checks: a refused database still gave the salt.
    if (!['42501', '3D000', '55000'].includes(errorCode(error) ?? '')) return undefined;
  } finally {
    await client.end().catch(() => {});
  }
  const salt = /(?:^|,)s=([^,]+)/.exec(serverFirst)?.[1];
  const iterations = Number(/(?:^|,)i=(\d+)/.exec(serverFirst)?.[1]);
  if (!salt || !Number.isSafeInteger(iterations) || iterations < 1) return undefined;
  return scramVerifier(password, Buffer.from(salt, 'base64'), iterations);
}
