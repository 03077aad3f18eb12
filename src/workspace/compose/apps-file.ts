/**
 * apps.compose.yaml: written whole by create-ovu-app from the workspace's apps, never edited in
 * place. It includes each app's own compose file and defines ovu-db-init, the one-shot service that
 * runs create-ovu-app's blocks of init-db.sql against the database service on every
 * `docker compose up` (they are idempotent), with each app's database password in its environment. So an app added to a
 * running platform gets its database at the next `up`, the database service itself needs no
 * per-app change, and an app's password reaches only its own service and ovu-db-init.
 */
import type { AppSpec } from '../../app/spec.ts';
import { initDbEnvVars } from '../../app/names.ts';
import { APP_COMPOSE_FILE, DB_INIT_SERVICE, envValue, reachOf, type Obj } from './model.ts';
import type { DatabaseService } from './project.ts';
import { blockLines, withEol, type Style, type YMap } from './render.ts';
import { MONITORING_COMPOSE_FILE, MONITOR_VERIFIER_VAR, includesMonitoring } from '../monitoring/index.ts';
import { PGBOUNCER_COMPOSE_FILE, includesPgbouncer } from '../pgbouncer/index.ts';

const HEADER = '# apps.compose.yaml: written by create-ovu-app from the apps in this workspace; do not edit.';

export function isAppsFile(text: string): boolean {
  return text.replace(/^\uFEFF/, '').startsWith(HEADER);
}

/** A psql client new enough for init-db.sql (psql 15+: \getenv): the database's own image when it is one. */
function clientImage(image: unknown): string {
  const m = typeof image === 'string' ? /^(?:docker\.io\/)?(?:library\/)?postgres:(\d+)(?:[.\w-]*)$/.exec(image) : null;
  return m && Number(m[1]) >= 15 ? (image as string) : 'postgres:17-alpine';
}

/** A value of the database service's environment, as Compose would pass it (`- NAME` alone: from the host). */
function envText(service: Obj, name: string): string | undefined {
  const v = envValue(service['environment'], name);
  if (v === undefined) return undefined;
  return v === null ? `\${${name}}` : String(v);
}

// `$$` is a literal `$` for Compose. Waits up to a minute for the server, then runs create-ovu-app's
// blocks of init-db.sql (the team's own sections are the database image's to run, once, as before).
const SCRIPT = [
  'i=0; until pg_isready -q; do i=$$((i+1));',
  'if [ "$$i" -ge 60 ]; then echo "ovu-db-init: $$PGHOST:$$PGPORT did not accept connections in 60 s" >&2; exit 1; fi; sleep 1; done;',
  "sed -n '/^-- >>> create-ovu-app: /,/^-- <<< create-ovu-app: /p' /ovu/init-db.sql | psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc -f -",
].join(' ');

function dbInitService(db: DatabaseService, crud: AppSpec[]): YMap {
  const svc = db.service;
  const env: YMap = { PGHOST: db.name, PGPORT: '5432', PGUSER: envText(svc, 'POSTGRES_USER') ?? 'postgres', PGDATABASE: 'postgres' };
  const password = envText(svc, 'POSTGRES_PASSWORD');
  if (password !== undefined) env['PGPASSWORD'] = password;
  for (const app of crud) for (const name of initDbEnvVars(app.names)) env[name] = `\${${name}}`;
  // init-db.sql's monitoring block (workspace/monitoring/).
  env[MONITOR_VERIFIER_VAR] = `\${${MONITOR_VERIFIER_VAR}}`;
  const out: YMap = {
    image: clientImage(svc['image']),
    command: ['sh', '-c', SCRIPT],
    environment: env,
    volumes: ['./init-db.sql:/ovu/init-db.sql:ro'],
    depends_on: { [db.name]: { condition: 'service_started' } },
  };
  return { ...out, ...reachOf(svc) };
}

export interface AppsFileNotes {
  text: string;
  notes: string[];
}

/** The file for `apps` (each with its own compose file), sorted by directory. */
export function appsComposeFile(apps: { dir: string; spec: AppSpec }[], db: DatabaseService | undefined, style: Style): AppsFileNotes {
  const sorted = [...apps].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  const crud = sorted.filter((a) => a.spec.settings.kind === 'crud').map((a) => a.spec);
  const notes: string[] = [];
  const lines = [
    HEADER,
    "# Each app's own service is in <app>/compose.yaml (edit that one). The workspace's compose file includes",
    `# this one. ${DB_INIT_SERVICE} runs create-ovu-app's blocks of init-db.sql on every \`docker compose up\`.`,
    ...blockLines(
      {
        include: [
          ...sorted.map((a) => `${a.dir}/${APP_COMPOSE_FILE}`),
          ...(includesMonitoring(db !== undefined, crud.length) ? [MONITORING_COMPOSE_FILE] : []),
          ...(includesPgbouncer(db !== undefined, sorted) ? [PGBOUNCER_COMPOSE_FILE] : []),
        ],
      },
      0,
      style,
    ),
  ];
  if (db && crud.length) {
    lines.push('', ...blockLines({ services: { [DB_INIT_SERVICE]: dbInitService(db, crud) } }, 0, style));
    if (envText(db.service, 'POSTGRES_PASSWORD') === undefined && envText(db.service, 'POSTGRES_HOST_AUTH_METHOD') !== 'trust') {
      notes.push(`${DB_INIT_SERVICE} logs in to ${db.name} with its POSTGRES_PASSWORD, which ${db.file} does not set: set it there (a \${VAR} from .env is fine)`);
    }
  }
  const text = lines.join('\n') + '\n';
  return { text: withEol(text, style), notes };
}
