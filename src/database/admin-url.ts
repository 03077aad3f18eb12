/**
 * The admin connection URL: from --admin-url, the libpq PG* variables, or the server the app was
 * provisioned on (server-record.ts); its checks and redaction. No command falls back to a server
 * nobody named, except `new --create-db`, whose question shows the server it will use.
 */
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { readServerRecord, type ServerRecord } from './server-record.ts';

/** What `new --create-db` uses when nothing names a server: the workspace's own local PostgreSQL. */
export const LOCAL_DEFAULT_ADMIN_URL = 'postgresql://postgres:postgres@localhost:5432/postgres';
const EXAMPLE = 'postgresql://user:password@host:5432/postgres';

export interface ResolveOptions {
  /** The server the app was provisioned on: used when neither the flag nor PG* name one. */
  recorded?: ServerRecord | undefined;
  /** Use LOCAL_DEFAULT_ADMIN_URL when nothing else names a server (`new --create-db` only). */
  localDefault?: boolean;
  /** For the error when nothing names a server: e.g. "inventory was never provisioned". */
  why?: string;
}

/** Where a resolved admin URL came from, for the line that names the server before it is used. */
export type AdminUrlSource = 'flag' | 'env' | 'recorded' | 'default';

/**
 * --admin-url, else the libpq PG* variables (what they leave out from the recorded server, else
 * localhost:5432 as postgres), else the recorded server, else (only with `localDefault`) the local
 * default. An empty --admin-url is an error, not "use the defaults".
 */
export function resolveAdminUrl(flag: string | undefined, env: NodeJS.ProcessEnv, opts: ResolveOptions = {}): string {
  return resolveAdmin(flag, env, opts).url;
}

export function resolveAdmin(flag: string | undefined, env: NodeJS.ProcessEnv, opts: ResolveOptions = {}): { url: string; source: AdminUrlSource } {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new UsageError(`--admin-url is empty: pass a server's admin URL, e.g. ${EXAMPLE}, or leave the flag out.`);
    parseAdminUrl(flag);
    return { url: flag, source: 'flag' };
  }
  const keys = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'] as const;
  const r = opts.recorded;
  if (!keys.some((k) => env[k])) {
    if (r) return { url: buildUrl(r.host, String(r.port), r.user, r.localDefault ? 'postgres' : '', r.database, 'the recorded server'), source: 'recorded' };
    if (opts.localDefault) return { url: LOCAL_DEFAULT_ADMIN_URL, source: 'default' };
    throw new UsageError(
      `no PostgreSQL server named${opts.why ? ` (${opts.why})` : ''}: pass --admin-url ${EXAMPLE}, or set PGHOST, PGPORT, PGUSER and PGPASSWORD.`,
    );
  }
  const host = env.PGHOST || r?.host || 'localhost';
  const port = env.PGPORT || (r ? String(r.port) : '5432');
  const user = env.PGUSER || r?.user || 'postgres';
  const password = env.PGPASSWORD ?? (env.PGUSER || r ? '' : 'postgres');
  const database = env.PGDATABASE || r?.database || 'postgres';
  // PGPASSWORD (or PGUSER) alone with a record: still the recorded server, with the person's credentials.
  const source: AdminUrlSource = r && !env.PGHOST && !env.PGPORT ? 'recorded' : 'env';
  return { url: buildUrl(host, port, user, password, database, 'the PG* variables (PGHOST, PGPORT, …)'), source };
}

function buildUrl(host: string, port: string, user: string, password: string, database: string, what: string): string {
  const hostPart = host.startsWith('/') ? encodeURIComponent(host) : host.includes(':') ? `[${host}]` : host;
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  const url = `postgresql://${auth}@${hostPart}:${port}/${encodeURIComponent(database)}`;
  parseAdminUrl(url, what);
  return url;
}

/**
 * The admin URL a command that touches an app's database uses (provision, doctor, backup,
 * restore, remove): --admin-url, PG*, or the server `<app>` was provisioned on. `notice`, when
 * given, is told which server before anything connects to it.
 */
export function adminUrlForApp(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  app: { root: string; slug: string },
  notice?: (text: string) => void,
): string {
  const recorded = readServerRecord(path.join(app.root, app.slug));
  const { url, source } = resolveAdmin(flag, env, { recorded, why: `${app.slug} has no record of the server it was provisioned on` });
  notice?.(`PostgreSQL server: ${describeServer(url)} (${SOURCE_TEXT[source]}${source === 'recorded' ? ` ${app.slug} was provisioned on` : ''})`);
  return url;
}

const SOURCE_TEXT: Record<AdminUrlSource, string> = {
  flag: 'from --admin-url',
  env: 'from the PG* variables',
  recorded: 'the server',
  default: 'the local default',
};

/** `host:port/database as user`, never the password: how a command names the server it touches. */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') || u.hostname || 'localhost';
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
    const user = decodeURIComponent(u.username) || 'postgres';
    return `${host}:${u.port || '5432'}/${db} as ${user}`;
  } catch {
    return 'an unreadable URL';
  }
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `url` is not an admin URL create-ovu-app will use, or undefined if it is. The reason never
 * quotes the URL: any part of it may be the password (`postgres:Secret@host` has no `//`, so a URL
 * parser takes `Secret@host` for a path and would connect to localhost).
 */
export function adminUrlProblem(url: string, what = '--admin-url'): string | undefined {
  const invalid = (why: string): string => `${what} is not a valid postgresql:// URL: ${why}; expected ${EXAMPLE}.`;
  if (!/^postgres(ql)?:\/\//i.test(url)) return invalid('it must start with postgresql:// (or postgres://)');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return invalid('it does not parse as a URL');
  }
  if (!decodes(u.username) || !decodes(u.password) || !decodes(u.pathname) || !decodes(u.search)) {
    return invalid('it has a % not followed by two hex digits (write a literal % in the password as %25)');
  }
  if (u.hostname === '' && !u.searchParams.get('host')) return invalid('it names no host');
  if (u.port !== '' && (!/^\d+$/.test(u.port) || Number(u.port) < 1 || Number(u.port) > 65535)) return invalid('its port is not 1 to 65535');
  return undefined;
}

/** The URL parsed, or a one-line UsageError (exit 2) that quotes no part of it. */
export function parseAdminUrl(url: string, what = '--admin-url'): URL {
  const problem = adminUrlProblem(url, what);
  if (problem) throw new UsageError(problem);
  return new URL(url);
}

/** The URL with its password (userinfo and ?password=) replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString().replace(/password=%2A%2A%2A/g, 'password=***');
  } catch {
    return 'postgresql://***';
  }
}
