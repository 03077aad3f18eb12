/** The admin connection URL: from --admin-url, the libpq PG* variables or the default; its checks and redaction. */
import { UsageError } from '../errors.ts';

const DEFAULT_ADMIN_URL = 'postgresql://postgres:postgres@localhost:5432/postgres';
const EXAMPLE = 'postgresql://user:password@host:5432/postgres';

/** --admin-url, else the libpq PG* variables (missing parts from the default), else the default URL. */
export function resolveAdminUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined && flag !== '') {
    parseAdminUrl(flag);
    return flag;
  }
  const keys = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'] as const;
  if (!keys.some((k) => env[k])) return DEFAULT_ADMIN_URL;
  const host = env.PGHOST || 'localhost';
  const port = env.PGPORT || '5432';
  const user = env.PGUSER || 'postgres';
  const password = env.PGPASSWORD ?? (env.PGUSER ? '' : 'postgres');
  const database = env.PGDATABASE || 'postgres';
  const hostPart = host.startsWith('/') ? encodeURIComponent(host) : host.includes(':') ? `[${host}]` : host;
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  const url = `postgresql://${auth}@${hostPart}:${port}/${encodeURIComponent(database)}`;
  parseAdminUrl(url, 'the PG* variables (PGHOST, PGPORT, …)');
  return url;
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
