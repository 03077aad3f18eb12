/** The admin connection URL: from --admin-url, the libpq PG* variables or the default; and its redaction. */
import { UserError } from '../errors.ts';

const DEFAULT_ADMIN_URL = 'postgresql://postgres:postgres@localhost:5432/postgres';

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
  return `postgresql://${auth}@${hostPart}:${port}/${encodeURIComponent(database)}`;
}

/** The URL parsed, or a UserError (without the password) if it is not a postgresql:// URL. */
export function parseAdminUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--admin-url is not a URL (${redactUrl(url)}); use postgresql://user:password@host:5432/postgres`);
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new UserError(`--admin-url must start with postgresql:// (got ${parsed.protocol}//…)`);
  }
  return parsed;
}

/** The URL with its password (userinfo and ?password=) replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString().replace(/password=%2A%2A%2A/g, 'password=***');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(password=)[^&\s]*/gi, '$1***');
  }
}
