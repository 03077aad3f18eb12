/**
 * provision's helpers around its run: the labels of its steps, the plan a dry run shows, what a
 * permission error means for the admin, and the rollback of what a failed run created.
 */
import type { Client } from 'pg';
import { UserError } from '../errors.ts';
import { apply, plan, statement } from './apply.ts';
import { errorCode, errorMessage } from './error-text.ts';
import { renderNode, renderNodeQuery } from './render.ts';
import { ADMIN_HAS_ROLE, APP_STATEMENTS, SERVER_HARDENING, WORKSPACE_HARDENING, type SqlStatement, type SqlValues } from './statements.ts';

export interface PlannedStatement {
  id: string;
  label: string;
  /** The SQL, the password's verifier replaced by '***'. */
  sql: string;
  /** Changes a database or role other than this workspace's apps' own (needs consent). */
  serverWide: boolean;
}

export function labelFor(s: SqlStatement, role: string, db: string): string {
  switch (s.id) {
    case 'create-role':
      return `create role ${role}`;
    case 'create-database':
      return `create database ${db}`;
    case 'revoke-public':
      return `restrict ${db} to ${role}`;
    default:
      return s.id.replace(/-/g, ' ');
  }
}

/** The ALTER ROLE that gives `role` the workspace's verifier, as a plan shows it. */
export function verifierStatement(admin: Pick<Client, 'escapeIdentifier'>, role: string): string {
  return `ALTER ROLE ${admin.escapeIdentifier(role)} PASSWORD '***'`;
}

/** Every statement a run would execute now (the admin's membership grant shown with its undo). */
export async function planAll(
  admin: Client,
  values: SqlValues,
  shown: SqlValues,
  before: PlannedStatement[],
  hardening: { owners: string; serverWide: boolean },
): Promise<PlannedStatement[]> {
  const out: PlannedStatement[] = [...before];
  const shownIds = new Set<string>();
  for (const s of APP_STATEMENTS) {
    if (s.kind === 'assert') continue;
    let rows = await plan(admin, s, values, shown);
    if (rows.length === 0 && s.undoes !== undefined && [...shownIds].some((id) => id.startsWith(s.undoes!))) {
      rows = [{ id: s.id, label: s.label, sql: `REVOKE ${admin.escapeIdentifier(values.role as string)} FROM CURRENT_USER`, transient: true }];
    }
    for (const r of rows) {
      shownIds.add(s.id);
      out.push({ id: r.id, label: r.label, sql: r.sql, serverWide: false });
    }
  }
  for (const r of await plan(admin, WORKSPACE_HARDENING, { owners: hardening.owners })) out.push({ id: r.id, label: r.label, sql: r.sql, serverWide: false });
  if (hardening.serverWide) {
    for (const r of await plan(admin, SERVER_HARDENING, { owners: hardening.owners })) out.push({ id: r.id, label: r.label, sql: r.sql, serverWide: true });
  }
  return out;
}

/** The databases the server-wide hardening would close (what a run without consent leaves open). */
export async function serverWideTargets(admin: Client, owners: string): Promise<{ database: string; owner: string }[]> {
  const query = `SELECT d.datname AS database, pg_get_userbyid(d.datdba) AS owner FROM pg_database d WHERE ${SERVER_HARDENING.when} ORDER BY d.datname`;
  return (await admin.query<{ database: string; owner: string }>(renderNodeQuery(query, { owners }, admin))).rows;
}

/** A permission error on one of our statements, as what the admin lacks and how to fix it. */
export function explainPermission(error: unknown, s: Pick<SqlStatement, 'id'>, role: string, admin: string, where: string): unknown {
  if (errorCode(error) !== '42501') return error;
  const reason = errorMessage(error);
  const managed =
    `on PostgreSQL 16 and later a CREATEROLE admin manages only the roles it created or holds ADMIN OPTION on: ` +
    `have a superuser run GRANT ${role} TO ${admin} WITH ADMIN OPTION, or provision as a superuser`;
  if (s.id.startsWith('admin-membership') || s.id === 'reset-password' || s.id === 'set-verifier' || s.id.startsWith('revoke-membership') || s.id.endsWith('-timeout') || s.id === 'connection-limit') {
    return new UserError(`admin ${admin} at ${where} may not change role ${role} (${reason}); ${managed}`);
  }
  return new UserError(`admin ${admin} at ${where} lacks a privilege for "${s.id}" (${reason}); provision as a superuser, or as the role that created ${role}`);
}

/** Run `fn`; once more if a cancel sent on Ctrl-C arrived just as it started (57014). */
async function again<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (errorCode(error) !== '57014') throw error;
    return fn();
  }
}

/** Drop what this run created (database first, while the admin still holds the role, then the role). */
export async function rollback(admin: Client, created: { role: boolean; database: boolean }, role: string, db: string, values: SqlValues): Promise<string> {
  const undone: string[] = [];
  const failed: string[] = [];
  // A CREATEROLE admin drops the database only with the owner's privileges: take the role again
  // if this run already gave it back (guarded: nothing happens for a superuser).
  const membership = created.database || created.role;
  if (membership) {
    await again(async () => {
      const row = (
        await admin.query<{ v16: boolean; has: boolean }>(
          `SELECT current_setting('server_version_num')::int >= 160000 AS v16, ${renderNodeQuery(ADMIN_HAS_ROLE, values, admin)} AS has`,
        )
      ).rows[0];
      if (row && !row.has) await admin.query(renderNode(statement(APP_STATEMENTS, row.v16 ? 'admin-membership-16' : 'admin-membership'), values, admin));
    }).catch(() => {});
  }
  if (created.database) {
    try {
      await again(() => admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(db)} WITH (FORCE)`));
      undone.push(`database ${db}`);
    } catch (error) {
      failed.push(`database ${db} (${errorMessage(error)})`);
    }
  }
  if (membership) {
    await again(() => apply(admin, statement(APP_STATEMENTS, 'admin-membership-end'), values)).catch(() => {});
  }
  if (created.role) {
    try {
      await again(() => admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(role)}`));
      undone.push(`role ${role}`);
    } catch (error) {
      failed.push(`role ${role} (${errorMessage(error)})`);
    }
  }
  let note = '';
  if (undone.length > 0) note += ` (dropped what this run created: ${undone.join(', ')})`;
  if (failed.length > 0) note += ` (could not drop ${failed.join(', ')}: drop them by hand)`;
  return note;
}
