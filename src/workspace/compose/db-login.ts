/**
 * How ovu-db-init (and ovu-backup) log in to the database service as its superuser: the same way
 * the postgres image's entrypoint gets it, so that they follow the team's setting rather than a
 * copy of it. The entrypoint reads POSTGRES_USER and POSTGRES_PASSWORD from the container's
 * environment, which Compose fills from `environment` (winning) and `env_file`; or the password
 * from the file POSTGRES_PASSWORD_FILE names, usually a Compose secret; or needs none with
 * POSTGRES_HOST_AUTH_METHOD=trust.
 *
 * - `${VAR}` in `environment`: ovu-db-init's PGPASSWORD is the same reference.
 * - `env_file`: ovu-db-init loads the same files (their paths as seen from apps.compose.yaml).
 * - POSTGRES_PASSWORD_FILE with a secret: ovu-db-init mounts the same secrets at the same paths
 *   and reads the file.
 * - A literal in `environment`: never copied into apps.compose.yaml (which git tracks); it goes
 *   into ovu-db-init/.env (git-ignored, mode 600), which only ovu-db-init and ovu-backup load.
 * Anything else (a derivative image's own variables, a bind-mounted password file) cannot be told:
 * `new` stops and says what it needs.
 */
import path from 'node:path';
import { readEnvVar } from '../env-file.ts';
import { envValue, isObj, type Obj } from './model.ts';

/** ovu-db-init's own env_file, git-ignored by the workspace's `.env` line: a literal superuser password. */
export const DB_INIT_ENV_FILE = 'ovu-db-init/.env';

export type DbLogin =
  | { how: 'environment'; user: string | undefined; password: string }
  | { how: 'literal'; user: string | undefined; password: string }
  | { how: 'env_file'; user: string | undefined; envFiles: unknown[]; secrets: unknown[] }
  | { how: 'secret'; user: string | undefined; passwordFile: string; secrets: unknown[] }
  | { how: 'trust'; user: string | undefined }
  | { how: 'unknown'; why: string };

/** A value of the service's environment as Compose passes it (`- NAME` alone: `${NAME}`, from the host or .env). */
function envText(service: Obj, name: string): string | undefined {
  const v = envValue(service['environment'], name);
  if (v === undefined) return undefined;
  return v === null ? `\${${name}}` : String(v);
}

/** The paths (and whether each must exist) of a service's env_file: a string, a list of strings or of `{path, required}`. */
function envFileEntries(value: unknown): { path: string; required: boolean }[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.flatMap((e) => (typeof e === 'string' ? [{ path: e, required: true }] : isObj(e) && typeof e['path'] === 'string' ? [{ path: e['path'], required: e['required'] !== false }] : []));
}

/** Where each of the service's secrets is mounted (`/run/secrets/<name>` unless `target` says). */
function secretTargets(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [];
  return list.flatMap((s) => {
    if (typeof s === 'string') return [`/run/secrets/${s}`];
    if (!isObj(s) || typeof s['source'] !== 'string') return [];
    const target = typeof s['target'] === 'string' ? s['target'] : s['source'];
    return [target.startsWith('/') ? target : `/run/secrets/${target}`];
  });
}

/** `$` that Compose would interpolate (not `$$`). */
const interpolates = (v: string): boolean => /(?:^|[^$])(?:\$\$)*\$(?!\$)/.test(v);

/**
 * How the database service's superuser logs in. `file` is the compose file that defines it,
 * relative to `root`; `read` gives a file's text (undefined: missing).
 */
export function dbLogin(name: string, file: string, service: Obj, root: string, read: (f: string) => string | undefined): DbLogin {
  // Compose resolves env_file paths against the defining file's directory; apps.compose.yaml is at the root.
  const dir = path.posix.dirname(file.split(path.sep).join('/'));
  const files = envFileEntries(service['env_file']).map((e) => ({ ...e, fromRoot: path.posix.isAbsolute(e.path) ? e.path : path.posix.normalize(path.posix.join(dir, e.path)) }));
  // Only files inside the workspace are read (a path in the team's file is input: not a file
  // elsewhere on this machine); one outside is loaded by ovu-db-init as the database loads it.
  const outside = files.filter((f) => path.posix.isAbsolute(f.fromRoot) || f.fromRoot.startsWith('../'));
  const fromFiles = (key: string): string | undefined => {
    let found: string | undefined;
    for (const f of files) if (!outside.includes(f)) found = readEnvVar(read(path.resolve(root, f.fromRoot)), key) ?? found;
    return found;
  };
  const envFiles = files.map((f) => {
    const p = path.posix.isAbsolute(f.fromRoot) ? f.fromRoot : `./${f.fromRoot}`;
    return f.required ? p : { path: p, required: false };
  });
  const user = envText(service, 'POSTGRES_USER');
  const secrets = Array.isArray(service['secrets']) ? service['secrets'] : [];
  const password = envText(service, 'POSTGRES_PASSWORD');
  if (password !== undefined && password !== '') {
    // A literal's `$$` is one `$` once Compose has read it: ovu-db-init/.env holds the value itself.
    return interpolates(password) ? { how: 'environment', user, password } : { how: 'literal', user, password: password.replace(/\$\$/g, '$') };
  }
  const passwordFile = envText(service, 'POSTGRES_PASSWORD_FILE') ?? fromFiles('POSTGRES_PASSWORD_FILE');
  const where = `${name} in ${file}`;
  if (password === undefined && (fromFiles('POSTGRES_PASSWORD') || (outside.length > 0 && envText(service, 'POSTGRES_PASSWORD_FILE') === undefined))) {
    return { how: 'env_file', user, envFiles, secrets };
  }
  if (passwordFile !== undefined) {
    if (interpolates(passwordFile) || !secretTargets(secrets).includes(passwordFile)) {
      return { how: 'unknown', why: `${where} reads its password from POSTGRES_PASSWORD_FILE=${passwordFile}, which is not one of its secrets: mount the password as a Compose secret at that path (\`secrets:\`), so ovu-db-init can mount the same one, and run again` };
    }
    // The file's name may itself come from an env_file: ovu-db-init loads the same files then.
    if (envText(service, 'POSTGRES_PASSWORD_FILE') === undefined) return { how: 'env_file', user, envFiles, secrets };
    return { how: 'secret', user, passwordFile, secrets };
  }
  if ((envText(service, 'POSTGRES_HOST_AUTH_METHOD') ?? fromFiles('POSTGRES_HOST_AUTH_METHOD')) === 'trust') return { how: 'trust', user };
  return {
    how: 'unknown',
    why: `ovu-db-init cannot tell how to log in to ${where}: it sets no POSTGRES_PASSWORD (in environment or an env_file), no POSTGRES_PASSWORD_FILE with a Compose secret, nor POSTGRES_HOST_AUTH_METHOD=trust; set one of them on ${name} (a \${VAR} from .env is fine) and run again`,
  };
}

/**
 * Before psql runs, in ovu-db-init's and ovu-backup's shell: PGUSER and PGPASSWORD from what the
 * container got the way the database's did (env_file, a secret's file), unless set already.
 * `$$` is a literal `$` for Compose.
 */
export function loginScript(login: DbLogin): string {
  if (login.how !== 'env_file' && login.how !== 'secret') return '';
  return [
    ': "$${PGUSER:=$${POSTGRES_USER:-postgres}}";',
    'if [ -z "$${PGPASSWORD:-}" ] && [ -n "$${POSTGRES_PASSWORD_FILE:-}" ]; then PGPASSWORD=$$(cat "$$POSTGRES_PASSWORD_FILE") || exit 1; fi;',
    ': "$${PGPASSWORD:=$${POSTGRES_PASSWORD:-}}"; export PGUSER PGPASSWORD;',
  ].join(' ') + ' ';
}

/** ovu-db-init/.env for a literal password (single-quoted: Compose expands `$` in other values). */
export function dbInitEnvText(login: DbLogin): string | undefined {
  if (login.how !== 'literal') return undefined;
  return [
    '# ovu-db-init/.env: written by create-ovu-app from the database service\'s POSTGRES_PASSWORD, for',
    '# ovu-db-init and ovu-backup only (their env_file). Keep it out of git (the .gitignore\'s ".env" line).',
    `PGPASSWORD='${login.password}'`,
    '',
  ].join('\n');
}

/** Why a literal password cannot go into ovu-db-init/.env as it is, if it cannot. */
export function literalProblem(login: DbLogin, where: string): string | undefined {
  if (login.how === 'literal' && /['\r\n]/.test(login.password)) {
    return `${where}: its POSTGRES_PASSWORD has a quote or a line break, which ovu-db-init/.env cannot hold literally: put it in .env as a variable (POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}) and run again`;
  }
  return undefined;
}
