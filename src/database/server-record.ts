/**
 * The server an app was provisioned on, recorded when provision succeeds so that later commands
 * (doctor, backup, restore, remove, provision again) go to that server and not to whatever
 * localhost happens to be. It lives in `<app>/.env` (mode 0600, ignored by git, per machine as the
 * server is): a URL without a password, the same host and port backend/.env's DATABASE_URL names.
 * Nothing secret: the admin's password comes from PGPASSWORD (or ~/.pgpass) each time, except the
 * local default's well-known `postgres`, which the record only marks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readEnvVar, setEnvVar } from '../workspace/env-file.ts';
import type { Plan } from '../plan/plan.ts';

export const SERVER_VAR = 'OVU_DB_SERVER';
/** Set to 1 when the app was provisioned with the local default admin (postgres:postgres@localhost). */
export const SERVER_DEFAULT_VAR = 'OVU_DB_SERVER_LOCAL_DEFAULT';

export interface ServerRecord {
  host: string;
  port: number;
  user: string;
  database: string;
  /** Provisioned with LOCAL_DEFAULT_ADMIN_URL: its password is the well-known default. */
  localDefault: boolean;
}

/** The record in `<appDir>/.env`, or undefined when there is none or it is not a plain postgresql:// URL. */
export function readServerRecord(appDir: string, read: (file: string) => string | undefined = readText): ServerRecord | undefined {
  const text = read(path.join(appDir, '.env'));
  const value = readEnvVar(text, SERVER_VAR);
  if (!value) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined;
  }
  // Only what provision writes: no password, no query (a query could carry host= or sslmode).
  if (!/^postgres(ql)?:$/.test(u.protocol) || u.password || u.search || !u.hostname) return undefined;
  const port = Number(u.port || '5432');
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    user: decodeURIComponent(u.username) || 'postgres',
    database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
    localDefault: readEnvVar(text, SERVER_DEFAULT_VAR) === '1',
  };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `adminUrl` without its password or query, as the record keeps it. */
export function recordValue(adminUrl: string): string {
  const u = new URL(adminUrl);
  const host = u.searchParams.get('host');
  u.password = '';
  u.search = '';
  // A socket directory (?host=/run/postgresql) has no place in a URL without a query: keep localhost.
  if (!u.hostname && host) u.hostname = 'localhost';
  return u.toString();
}

/** Stage the record of `adminUrl` (the server just provisioned on) in `<appDir>/.env`; false when it is already so. */
export function stageServerRecord(plan: Plan, appDir: string, adminUrl: string, localDefault: boolean): boolean {
  const file = path.join(appDir, '.env');
  const source = plan.read(file);
  const value = recordValue(adminUrl);
  const flag = localDefault ? '1' : undefined;
  if (readEnvVar(source, SERVER_VAR) === value && readEnvVar(source, SERVER_DEFAULT_VAR) === flag) return false;
  let text = setEnvVar(source, SERVER_VAR, value, 'create-ovu-app: the PostgreSQL server this app was provisioned on (no password); doctor, backup, restore and remove use it');
  if (flag) text = setEnvVar(text, SERVER_DEFAULT_VAR, flag);
  else if (readEnvVar(text, SERVER_DEFAULT_VAR) !== undefined) text = setEnvVar(text, SERVER_DEFAULT_VAR, '0');
  plan.write(file, text, { mode: 0o600, secret: true });
  return true;
}
