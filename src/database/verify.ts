/** The checks after provisioning, from the app user's side: what it can reach and what it may do. */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { type AppConfig, type Pg, connect } from './connection.ts';
import { errorCode } from './error-text.ts';
import { ROLE_TIMEOUTS } from './statements.ts';
import { memberships, membershipText } from './server-state.ts';
import type { AppSpec } from '../app/spec.ts';

export interface Check {
  /** Stable: `own-database`, `refused.<database>`, `superuser`, … (doctor's check ids end with it). */
  id: string;
  label: string;
  /** `warning`: not as it should be, but not something this run could fix (a database the admin cannot close). */
  status: 'ok' | 'warning' | 'failed';
}

export interface VerifyContext {
  /** Databases that stay open to PUBLIC because the admin cannot revoke there, with the owner's statement. */
  stillOpen: { database: string; owner: string; statement: string; reason?: string }[];
  connectionLimit: number;
}

const check = (id: string, label: string, ok: boolean): Check => ({ id, label, status: ok ? 'ok' : 'failed' });

/** Check the result from the app user's side. */
export async function verify(pg: Pg, admin: Client, spec: AppSpec, password: string, appConfig: AppConfig, ctx: VerifyContext): Promise<Check[]> {
  const { user: role, db } = spec.names;
  const results: Check[] = [];

  // 1. Logs in to its own database and can create (and drop) a table.
  const table = `ovu_provision_check_${randomBytes(4).toString('hex')}`;
  let ownOk = false;
  try {
    const client = await connect(pg, appConfig(db, password));
    try {
      await client.query(`CREATE TABLE ${client.escapeIdentifier(table)} (id integer)`);
      await client.query(`DROP TABLE ${client.escapeIdentifier(table)}`);
      ownOk = true;
    } finally {
      await client.end().catch(() => {});
    }
  } catch {
    ownOk = false;
  }
  results.push(check('own-database', `${role} logs in to ${db} and can create a table`, ownOk));

  // 2. Refused CONNECT to every other database that accepts connections; one that stays open to
  // PUBLIC because this admin cannot close it is a warning naming the statement its owner must run.
  const others = (
    await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datallowconn AND datname <> ${admin.escapeLiteral(db)} ORDER BY datname`,
    )
  ).rows.map((r) => r.datname);
  const refused = await mapLimit(others, 4, async (other) => {
    try {
      const client = await connect(pg, appConfig(other, password));
      await client.end().catch(() => {});
      return false;
    } catch (error) {
      return errorCode(error) === '42501';
    }
  });
  others.forEach((other, i) => {
    if (refused[i] === true) {
      results.push(check(`refused.${other}`, `${role} is refused CONNECT to ${other}`, true));
      return;
    }
    const open = ctx.stillOpen.find((o) => o.database === other);
    results.push(
      open
        ? {
            id: `refused.${other}`,
            label: open.reason
              ? `${role} can still connect to ${other}: it stays open to PUBLIC (${open.reason}): ${open.statement}`
              : `${role} can still connect to ${other}: it stays open to PUBLIC, and only its owner ${open.owner} (or a superuser) can close it: ${open.statement}`,
            status: 'warning',
          }
        : {
            id: `refused.${other}`,
            label: `${role} can connect to ${other}, another database: PUBLIC's CONNECT there, or a GRANT CONNECT on it to ${role} or a role it is in, lets it in (REVOKE CONNECT, TEMPORARY ON DATABASE ${admin.escapeIdentifier(other)} FROM ${admin.escapeIdentifier(role)}; takes back a grant)`,
            status: 'failed',
          },
    );
  });

  // 3. No attribute or membership beyond its own database; its limits in place.
  const attrs = (
    await admin.query<{
      rolsuper: boolean;
      rolcreatedb: boolean;
      rolcreaterole: boolean;
      rolreplication: boolean;
      rolbypassrls: boolean;
      rolconnlimit: number;
      predefined: string | null;
      config: string[] | null;
    }>(
      `SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
              (SELECT string_agg(p.rolname, ', ') FROM pg_roles p WHERE starts_with(p.rolname, 'pg_') AND p.oid <> r.oid AND pg_has_role(r.oid, p.oid, 'MEMBER')) AS predefined,
              (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0) AS config
       FROM pg_roles r WHERE r.rolname = ${admin.escapeLiteral(role)}`,
    )
  ).rows[0];
  results.push(check('superuser', `${role} is not a superuser`, attrs?.rolsuper === false));
  results.push(check('createdb', `${role} cannot create databases`, attrs?.rolcreatedb === false));
  results.push(check('createrole', `${role} cannot create roles`, attrs?.rolcreaterole === false));
  results.push(check('replication-bypassrls', `${role} has neither REPLICATION nor BYPASSRLS`, attrs?.rolreplication === false && attrs?.rolbypassrls === false));
  results.push(check('predefined-roles', `${role} is in no predefined role${attrs?.predefined ? ` (is in ${attrs.predefined})` : ''}`, attrs !== undefined && attrs.predefined === null));
  results.push(check('connection-limit', `${role} has CONNECTION LIMIT ${ctx.connectionLimit}`, attrs?.rolconnlimit === ctx.connectionLimit));
  const config = attrs?.config ?? [];
  results.push(
    check(
      'timeouts',
      `${role} has statement_timeout ${ROLE_TIMEOUTS.statementTimeoutMs} ms and idle_in_transaction_session_timeout ${ROLE_TIMEOUTS.idleInTransactionTimeoutMs} ms`,
      config.includes(`statement_timeout=${ROLE_TIMEOUTS.statementTimeoutMs}`) &&
        config.includes(`idle_in_transaction_session_timeout=${ROLE_TIMEOUTS.idleInTransactionTimeoutMs}`),
    ),
  );
  // 4. Its own: no role can SET ROLE into it, and it has no other role's rights.
  const held = await memberships(admin, role);
  results.push(check('memberships', held.members.length || held.memberOf.length ? `${role} is shared: ${membershipText(role, held)}` : `${role} has no members and is a member of no role`, !held.members.length && !held.memberOf.length));
  return results;
}

/** fn over items, at most `limit` at a time, results in the order of items. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}
