/** The checks after provisioning, from the app user's side: what it can reach and what it may do. */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { type AppConfig, type Pg, connect } from './connection.ts';
import { errorCode } from './error-text.ts';
import type { AppSpec } from '../app/spec.ts';

export interface Check {
  label: string;
  ok: boolean;
}

/** Check the result from the app user's side. */
export async function verify(pg: Pg, admin: Client, spec: AppSpec, password: string, appConfig: AppConfig): Promise<Check[]> {
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
  results.push({ label: `${role} logs in to ${db} and can create a table`, ok: ownOk });

  // 2. Refused CONNECT to every other database that accepts connections.
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
    results.push({ label: `${role} is refused CONNECT to ${other}`, ok: refused[i] === true });
  });

  // 3. No dangerous attributes.
  const attrs = (
    await admin.query<{ rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>(
      `SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}`,
    )
  ).rows[0];
  results.push({ label: `${role} is not a superuser`, ok: attrs?.rolsuper === false });
  results.push({ label: `${role} cannot create databases`, ok: attrs?.rolcreatedb === false });
  results.push({ label: `${role} cannot create roles`, ok: attrs?.rolcreaterole === false });
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
