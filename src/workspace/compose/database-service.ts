/**
 * Which service is the platform's PostgreSQL, recognised by what it is: a postgres-family image
 * (any registry and tag, `${VAR}` tags too), the official image's POSTGRES_* environment, or a
 * build whose Dockerfile starts FROM such an image. The image (or FROM) outranks the environment:
 * application services often set POSTGRES_DB/POSTGRES_USER for their own client (taiga-back,
 * spring apps), so the environment decides only when no service is PostgreSQL by its image. A
 * service that only looks like one (named db, or on port 5432) is not taken on a guess, nor is one
 * whose image is another database (mariadb named db); neither is one of several: then --db-service
 * says.
 */
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { isObj, type Obj } from './model.ts';

/**
 * The official image and images built on it, by the last part of their name; also a name that
 * carries the major (sourcegraph/postgresql-16, sourcegraph/postgresql-16-codeinsights,
 * postgres-12-alpine), but not a tool named after it (postgres-meta, postgres_exporter).
 */
const IMAGE = /^(?:[^/\s]+\/)*(?:postgres|postgresql|postgis|timescaledb|timescaledb-ha|pgvector|supabase-postgres|postgres(?:ql)?-\d+(?:-[a-z0-9]+)*)(?::\S+)?(?:@sha256:[0-9a-f]+)?$/;
const LOOKS_LIKE = /^(?:postgres|postgresql|pg|db|database)$/;
/** Images of other databases: a service running one is not a PostgreSQL look-alike, whatever its name. */
const OTHER_DATABASE = /^(?:[^/\s]+\/)*(?:mysql|mariadb|percona|mongo|mongodb|mssql-server|redis|valkey|memcached|clickhouse-server|cassandra|couchdb|neo4j|elasticsearch|opensearch|influxdb)(?::\S+)?(?:@sha256:[0-9a-f]+)?$/;

export interface DatabaseCandidate {
  name: string;
  /** The file that defines it, relative to the root. */
  file: string;
  service: Obj;
  /** Recognised by what it is, not just by how it looks; and why. */
  certain: boolean;
  /** Recognised by its POSTGRES_* environment only, which clients of a database set too. */
  byEnvironment?: boolean;
  why: string;
}

export function isPostgresImage(image: unknown): boolean {
  return typeof image === 'string' && IMAGE.test(image.trim());
}

function hasPgEnv(env: unknown): boolean {
  const names = isObj(env) ? Object.keys(env) : Array.isArray(env) ? env.map((e) => String(e).split('=')[0]) : [];
  // POSTGRES_HOST names the server a client connects to (nextcloud, taiga-back): not a server.
  if (names.includes('POSTGRES_HOST')) return false;
  return names.some((n) => n === 'POSTGRES_PASSWORD' || n === 'POSTGRES_USER' || n === 'POSTGRES_DB' || n === 'POSTGRES_PASSWORD_FILE');
}

function uses5432(svc: Obj): boolean {
  const ports = Array.isArray(svc['ports']) ? svc['ports'] : [];
  const expose = Array.isArray(svc['expose']) ? svc['expose'] : [];
  return [...ports, ...expose].some((p) => (isObj(p) ? Number(p['target']) === 5432 : /(?:^|:)5432(?:\/tcp)?$/.test(String(p))));
}

/** The first FROM of the service's Dockerfile, when it builds one that can be read. */
function builtFrom(svc: Obj, file: string, root: string, read: (f: string) => string | undefined): string | undefined {
  const build = svc['build'];
  const context = typeof build === 'string' ? build : isObj(build) && typeof build['context'] === 'string' ? build['context'] : undefined;
  if (context === undefined || /^[a-z]+:\/\//i.test(context)) return undefined;
  const dockerfile = isObj(build) && typeof build['dockerfile'] === 'string' ? build['dockerfile'] : 'Dockerfile';
  const text = read(path.resolve(root, path.dirname(file), context, dockerfile));
  return text ? /^\s*FROM\s+(?:--\S+\s+)*(\S+)/im.exec(text)?.[1] : undefined;
}

export function databaseCandidates(services: Obj, file: string, root: string, read: (f: string) => string | undefined): DatabaseCandidate[] {
  const out: DatabaseCandidate[] = [];
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) continue;
    const from = builtFrom(svc, file, root, read);
    const why = isPostgresImage(svc['image'])
      ? `image ${String(svc['image'])}`
      : from !== undefined && isPostgresImage(from)
        ? `built FROM ${from}`
        : hasPgEnv(svc['environment'])
          ? 'POSTGRES_* environment'
          : undefined;
    if (why) out.push({ name, file, service: svc, certain: true, why, ...(why === 'POSTGRES_* environment' ? { byEnvironment: true } : {}) });
    else if (typeof svc['image'] === 'string' && OTHER_DATABASE.test(svc['image'].trim())) continue;
    else if (LOOKS_LIKE.test(name) || uses5432(svc)) out.push({ name, file, service: svc, certain: false, why: LOOKS_LIKE.test(name) ? 'its name' : 'port 5432' });
  }
  return out;
}

/** The compose project's database cannot be told without the user: --db-service, or a question. */
export class DatabaseAmbiguity extends UserError {
  constructor(
    message: string,
    readonly candidates: Pick<DatabaseCandidate, 'name' | 'file' | 'why'>[],
  ) {
    super(message, 2);
    this.name = 'DatabaseAmbiguity';
  }
}

/**
 * The database service, or undefined when the project has none (the caller adds one). Throws a
 * DatabaseAmbiguity, naming the candidates and the flag, when it cannot tell.
 */
export function chooseDatabase(candidates: DatabaseCandidate[], flag: string | undefined, services: ReadonlySet<string>): DatabaseCandidate | undefined {
  if (flag !== undefined) {
    const chosen = candidates.find((c) => c.name === flag);
    if (chosen) return chosen;
    if (services.has(flag)) {
      throw new UserError(`--db-service ${flag}: that service does not look like PostgreSQL (no postgres image, POSTGRES_* environment or FROM postgres); check the name`);
    }
    throw new UserError(`--db-service ${flag}: no such service in the compose project${candidates.length ? ` (PostgreSQL-like: ${candidates.map((c) => c.name).join(', ')})` : ''}`);
  }
  const byImage = candidates.filter((c) => c.certain && !c.byEnvironment);
  const certain = byImage.length ? byImage : candidates.filter((c) => c.certain);
  if (certain.length === 1) return certain[0];
  const list = (cs: DatabaseCandidate[]): string => cs.map((c) => `${c.name} (${c.file}: ${c.why})`).join(', ');
  const brief = (cs: DatabaseCandidate[]) => cs.map(({ name, file, why }) => ({ name, file, why }));
  if (certain.length > 1) throw new DatabaseAmbiguity(`the compose project has several PostgreSQL services, ${list(certain)}: pass --db-service <name> to say which one apps use`, brief(certain));
  if (candidates.length) {
    throw new DatabaseAmbiguity(`${list(candidates)} may be a database, but it is not recognisably PostgreSQL: pass --db-service <name> if apps should use it, or give it a postgres image`, brief(candidates));
  }
  return undefined;
}

/** The PostgreSQL major of an official image tag (`postgres:13`, `postgres:13.4-alpine`), if it says. */
export function postgresMajor(image: unknown): number | undefined {
  const m = typeof image === 'string' ? /^(?:docker\.io\/)?(?:library\/)?postgres:(\d+)(?![\d])/.exec(image.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

/** Whether the service mounts the workspace's init-db.sql where the image runs it on first start. */
export function runsInitDbAtStart(service: Obj): boolean {
  const vols = Array.isArray(service['volumes']) ? service['volumes'] : [];
  return vols.some((v) => {
    const [source, target] = typeof v === 'string' ? v.split(':') : isObj(v) ? [v['source'], v['target']] : [];
    return typeof target === 'string' && target.startsWith('/docker-entrypoint-initdb.d') && typeof source === 'string' && /init-db\.sql$|^\.\/?$/.test(source);
  });
}

/** Server settings a database service's `command` sets (`postgres -c max_connections=200`, `-N 200`). */
export interface ServerSettings {
  maxConnections?: number;
  /** superuser_reserved_connections + reserved_connections, when either is set. */
  reserved?: number;
}

export function serverSettings(service: Obj): ServerSettings {
  const command = service['command'];
  const words = Array.isArray(command) ? command.map(String) : typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : [];
  const settings = new Map<string, number>();
  words.forEach((w, i) => {
    // `-c name=value`, `-cname=value`, `--name=value` (postgres takes all three), and `-N n`.
    const pair = (w === '-c' ? words[i + 1] : /^-c./.test(w) ? w.slice(2) : /^--[a-z_]+=/.test(w) ? w.slice(2) : undefined)?.replace(/^["']|["']$/g, '');
    const m = pair ? /^([a-z_.]+)=(\d+)$/.exec(pair) : null;
    if (m) settings.set(m[1]!.replace(/-/g, '_'), Number(m[2]));
    if (w === '-N' && /^\d+$/.test(words[i + 1] ?? '')) settings.set('max_connections', Number(words[i + 1]));
  });
  const reservedParts = ['superuser_reserved_connections', 'reserved_connections'].filter((k) => settings.has(k));
  return {
    ...(settings.has('max_connections') ? { maxConnections: settings.get('max_connections')! } : {}),
    ...(reservedParts.length ? { reserved: (settings.get('superuser_reserved_connections') ?? 3) + (settings.get('reserved_connections') ?? 0) } : {}),
  };
}
