/**
 * apps.compose.yaml: written whole by create-ovu-app from the workspace's apps, never edited in
 * place. It includes each app's own compose file and defines ovu-db-init, the one-shot service that
 * runs create-ovu-app's blocks of init-db.sql against the database service on every
 * `docker compose up` (they are idempotent), with each app's database password in its environment. So an app added to a
 * running platform gets its database at the next `up`, the database service itself needs no
 * per-app change, and an app's password reaches only its own service and ovu-db-init.
 */
import { parse } from 'yaml';
import type { AppSpec } from '../../app/spec.ts';
import { initDbEnvVars } from '../../app/names.ts';
import { APP_COMPOSE_FILE, DB_INIT_SERVICE, envValue, reachOf, type Obj } from './model.ts';
import type { DatabaseService } from './project.ts';
import { blockLines, withEol, type Style, type YMap } from './render.ts';
import { MONITORING_COMPOSE_FILE, MONITOR_VERIFIER_VAR, includesMonitoring } from '../monitoring/index.ts';
import { PGBOUNCER_COMPOSE_FILE, includesPgbouncer } from '../pgbouncer/index.ts';
import { ULM_DEV_COMPOSE_FILE, usesUlmDev } from '../ulm-dev/names.ts';

const HEADER = '# apps.compose.yaml: written by create-ovu-app from the apps in this workspace; do not edit.';

export function isAppsFile(text: string): boolean {
  return text.replace(/^\uFEFF/, '').startsWith(HEADER);
}

/**
 * The database service an earlier run chose (ovu-db-init's PGHOST in the file it wrote), so that a
 * later run needs no --db-service again: --db-service is never saved with an app.
 */
export function chosenDatabase(text: string): string | undefined {
  try {
    const js = parse(text) as { services?: Record<string, { environment?: Record<string, unknown> }> } | null;
    const host = js?.services?.[DB_INIT_SERVICE]?.environment?.['PGHOST'];
    return typeof host === 'string' ? host : undefined;
  } catch {
    return undefined;
  }
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

/** How a psql or pg_dump in a service of ours logs in to the database service: as its POSTGRES_USER. */
function adminEnv(db: DatabaseService): YMap {
  const svc = db.service;
  const env: YMap = { PGHOST: db.name, PGPORT: '5432', PGUSER: envText(svc, 'POSTGRES_USER') ?? 'postgres', PGDATABASE: 'postgres' };
  const password = envText(svc, 'POSTGRES_PASSWORD');
  if (password !== undefined) env['PGPASSWORD'] = password;
  return env;
}

function dbInitService(db: DatabaseService, crud: AppSpec[]): YMap {
  const svc = db.service;
  const env = adminEnv(db);
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

/**
 * ovu-backup, under the `backup` profile so a plain `up` does not start it: once a night (at
 * OVU_BACKUP_HOUR, UTC, default 3) a `pg_dump -Fc` of each app's database into
 * ./backups/<app>/<app>_db-<UTC time>.dump (each OVU_BACKUP_APP_* variable names one app and its
 * database), the names `create-ovu-app backup` gives, keeping the
 * newest OVU_BACKUP_KEEP (default 7) of each. A dump is written under a temporary name and
 * renamed when whole. OVU_BACKUP_NOW=1 dumps at once and exits (the exit code counts failures).
 * Its pg_dump is the database image's own, so its major is the server's.
 */
export const BACKUP_SERVICE = 'ovu-backup';
export const BACKUP_PROFILE = 'backup';

const BACKUP_SCRIPT = [
  'keep=$${OVU_BACKUP_KEEP:-7}; dir=$${OVU_BACKUP_DIR:-/backups};',
  'while :; do',
  'if [ -z "$$OVU_BACKUP_NOW" ]; then now=$$(date -u +%s); next=$$((now / 86400 * 86400 + $${OVU_BACKUP_HOUR:-3} * 3600));',
  '[ "$$next" -gt "$$now" ] || next=$$((next + 86400)); sleep $$((next - now)); fi;',
  'failed=0;',
  'for pair in $$(env | sed -n "s/^OVU_BACKUP_APP_[A-Z0-9_]*=//p" | sort); do app=$${pair%%:*}; db=$${pair#*:}; mkdir -p "$$dir/$$app";',
  'f="$$dir/$$app/$$db-$$(date -u +%Y%m%dT%H%M%SZ).dump";',
  'if pg_dump -Fc -f "$$f.partial" "$$db"; then chmod 600 "$$f.partial"; mv "$$f.partial" "$$f"; echo "ovu-backup: $$f";',
  'ls -1 "$$dir/$$app/" | grep -E "^$$db-[0-9]{8}T[0-9]{6}Z\\.dump$$" | sort -r | tail -n +$$((keep + 1)) | while read -r old; do rm -f "$$dir/$$app/$$old"; done;',
  'else rm -f "$$f.partial"; failed=$$((failed + 1)); echo "ovu-backup: pg_dump of $$db failed" >&2; fi; done;',
  'if [ -n "$$OVU_BACKUP_NOW" ]; then exit "$$failed"; fi; sleep 60; done',
].join(' ');

function backupService(db: DatabaseService, crud: AppSpec[]): YMap {
  const init = dbInitService(db, []);
  // One line per app (OVU_BACKUP_APP_<APP>: <app>:<app>_db), so an app added is a line added.
  // The admin login only: no role's verifier is any use to pg_dump.
  const env: YMap = { ...adminEnv(db), OVU_BACKUP_KEEP: '7', OVU_BACKUP_HOUR: '3' };
  for (const a of crud) env[`OVU_BACKUP_APP_${a.names.verifierVar.replace(/_DB_VERIFIER$/, '')}`] = `${a.names.slug}:${a.names.db}`;
  const reach = reachOf(db.service);
  return {
    image: init['image']!,
    profiles: [BACKUP_PROFILE],
    command: ['sh', '-c', BACKUP_SCRIPT],
    environment: env,
    volumes: ['./backups:/backups'],
    depends_on: { [db.name]: { condition: 'service_started' } },
    restart: 'unless-stopped',
    ...(reach['networks'] ? { networks: reach['networks'] } : {}),
  };
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
    `# this one. ${DB_INIT_SERVICE} runs create-ovu-app's blocks of init-db.sql on every \`docker compose up\`;`,
    `# ${BACKUP_SERVICE} (\`docker compose --profile ${BACKUP_PROFILE} up -d ${BACKUP_SERVICE}\`) dumps each app's database nightly to ./backups/.`,
    ...blockLines(
      {
        include: [
          ...sorted.map((a) => `${a.dir}/${APP_COMPOSE_FILE}`),
          ...(includesMonitoring(db !== undefined, crud.length) ? [MONITORING_COMPOSE_FILE] : []),
          ...(includesPgbouncer(db !== undefined, sorted) ? [PGBOUNCER_COMPOSE_FILE] : []),
          ...(sorted.some((a) => usesUlmDev(a.spec.settings.ulmUrl)) ? [ULM_DEV_COMPOSE_FILE] : []),
        ],
      },
      0,
      style,
    ),
  ];
  if (db && crud.length) {
    lines.push('', ...blockLines({ services: { [DB_INIT_SERVICE]: dbInitService(db, crud), [BACKUP_SERVICE]: backupService(db, crud) } }, 0, style));
    if (envText(db.service, 'POSTGRES_PASSWORD') === undefined && envText(db.service, 'POSTGRES_HOST_AUTH_METHOD') !== 'trust') {
      notes.push(`${DB_INIT_SERVICE} logs in to ${db.name} with its POSTGRES_PASSWORD, which ${db.file} does not set: set it there (a \${VAR} from .env is fine)`);
    }
  }
  const text = lines.join('\n') + '\n';
  return { text: withEol(text, style), notes };
}
