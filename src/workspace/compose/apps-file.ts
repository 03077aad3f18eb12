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
import { APP_COMPOSE_FILE, DB_INIT_SERVICE, reachOf } from './model.ts';
import { DB_INIT_ENV_FILE, dbInitEnvText, loginScript, type DbLogin } from './db-login.ts';
import type { DatabaseService } from './project.ts';
import { blockLines, withEol, type Style, type Y, type YMap } from './render.ts';
import { VERIFIERS_ENV_FILE } from '../verifiers.ts';
import { derivedIncludes } from '../derived.ts';
import { MARK_COMMAND, S3_KEEP, UPLOAD_LOOP, forCompose } from '../backup/scripts.ts';
import { BACKUP_IMAGES } from '../k8s/backups.ts';

const HEADER = '# apps.compose.yaml: written by create-ovu-app from the apps in this workspace; do not edit.';

export function isAppsFile(text: string): boolean {
  return text.replace(/^\uFEFF/, '').startsWith(HEADER);
}

/**
 * The database service an earlier run chose (ovu-db-init's PGHOST in the file it wrote), so that a
 * later run needs no --db-service again: --db-service is never saved with an app.
 */
export function chosenDatabase(text: string): string | undefined {
  // The file is ours (one line per key, block style): its ovu-db-init's PGHOST line, found without
  // parsing the whole file, which has a few lines per app. Anything else is parsed.
  const block = /^([ \t]*)ovu-db-init:[ \t]*\r?$/m.exec(text);
  if (block) {
    const indent = block[1]!.length;
    for (const line of text.slice(block.index + block[0].length).split('\n')) {
      if (line.trim() === '') continue;
      if (line.length - line.trimStart().length <= indent) break;
      const host = /^[ \t]+PGHOST:[ \t]*(\S.*?)[ \t]*\r?$/.exec(line);
      if (host && !/^["'{[&*!|>]/.test(host[1]!)) return host[1];
    }
  }
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

// `$$` is a literal `$` for Compose. Waits up to a minute for the server, then runs create-ovu-app's
// blocks of init-db.sql (the team's own sections are the database image's to run, once, as before).
const WAIT_AND_RUN = [
  'i=0; until pg_isready -q; do i=$$((i+1));',
  'if [ "$$i" -ge 60 ]; then echo "ovu-db-init: $$PGHOST:$$PGPORT did not accept connections in 60 s" >&2; exit 1; fi; sleep 1; done;',
  "sed -n '/^-- >>> create-ovu-app: /,/^-- <<< create-ovu-app: /p' /ovu/init-db.sql | psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc -f -",
].join(' ');

/**
 * How a psql or pg_dump in a service of ours logs in to the database service: as its POSTGRES_USER,
 * with the password however the database gets it (db-login.ts). Never a literal password here.
 */
function adminEnv(db: DatabaseService): YMap {
  const login = db.login;
  const user = login.how === 'unknown' ? undefined : login.user;
  // From an env_file or a secret, the login script sets PGUSER from what the container got.
  const scripted = loginScript(login) !== '';
  const env: YMap = { PGHOST: db.name, PGPORT: '5432', ...(user !== undefined || !scripted ? { PGUSER: user ?? 'postgres' } : {}), PGDATABASE: 'postgres' };
  if (login.how === 'environment') env['PGPASSWORD'] = login.password;
  if (login.how === 'secret') env['POSTGRES_PASSWORD_FILE'] = login.passwordFile;
  return env;
}

/** The env_file and secrets the login needs: the database's own, or ovu-db-init/.env for a literal password. */
function loginSources(login: DbLogin): YMap {
  if (login.how === 'literal') return { env_file: [`./${DB_INIT_ENV_FILE}`] };
  if (login.how === 'env_file') return { env_file: login.envFiles as Y[], ...(login.secrets.length ? { secrets: login.secrets as Y[] } : {}) };
  if (login.how === 'secret') return { secrets: login.secrets as Y[] };
  return {};
}

function dbInitService(db: DatabaseService, crud: AppSpec[]): YMap {
  const svc = db.service;
  const env = adminEnv(db);
  // The roles' verifiers (init-db.sql's \getenv, the monitoring block's too) come from their own
  // env_file, never from the workspace .env that every `env_file: .env` service loads.
  const login = loginSources(db.login);
  const envFiles = [...((login['env_file'] as Y[] | undefined) ?? []), `./${VERIFIERS_ENV_FILE}`];
  const out: YMap = {
    image: clientImage(svc['image']),
    command: ['sh', '-c', loginScript(db.login) + WAIT_AND_RUN],
    environment: env,
    ...login,
    env_file: envFiles,
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
  // The last successful dump, for the alert on backups older than a day (backup/scripts.ts).
  `${forCompose(MARK_COMMAND)} || echo "ovu-backup: could not record the dump of $$db" >&2;`,
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
    command: ['sh', '-c', loginScript(db.login) + BACKUP_SCRIPT],
    environment: env,
    ...loginSources(db.login),
    volumes: ['./backups:/backups'],
    depends_on: { [db.name]: { condition: 'service_started' } },
    restart: 'unless-stopped',
    ...(reach['networks'] ? { networks: reach['networks'] } : {}),
  };
}

/**
 * ovu-backup-upload, beside ovu-backup in its profile: uploads each new dump to an S3-compatible
 * bucket (backup/scripts.ts UPLOAD_LOOP, the commands the Kubernetes CronJobs run) when
 * OVU_BACKUP_S3_BUCKET is set in .env, and exits at once otherwise. The keys come from .env.
 */
export const BACKUP_UPLOAD_SERVICE = 'ovu-backup-upload';

function backupUploadService(): YMap {
  return {
    image: BACKUP_IMAGES.awsCli,
    profiles: [BACKUP_PROFILE],
    entrypoint: ['sh', '-c', forCompose(UPLOAD_LOOP)],
    environment: {
      OVU_BACKUP_S3_BUCKET: '${OVU_BACKUP_S3_BUCKET:-}',
      OVU_BACKUP_S3_ENDPOINT: '${OVU_BACKUP_S3_ENDPOINT:-}',
      OVU_BACKUP_S3_KEEP: `\${OVU_BACKUP_S3_KEEP:-${S3_KEEP}}`,
      AWS_ACCESS_KEY_ID: '${OVU_BACKUP_S3_ACCESS_KEY_ID:-}',
      AWS_SECRET_ACCESS_KEY: '${OVU_BACKUP_S3_SECRET_ACCESS_KEY:-}',
      AWS_DEFAULT_REGION: '${OVU_BACKUP_S3_REGION:-us-east-1}',
    },
    volumes: ['./backups:/backups'],
    restart: 'on-failure',
  };
}

export interface AppsFileNotes {
  text: string;
  notes: string[];
  /** ovu-db-init/.env (a literal superuser password), undefined when the login needs none. */
  dbInitEnv: string | undefined;
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
    `# ${BACKUP_UPLOAD_SERVICE} (same profile) uploads them to s3://$OVU_BACKUP_S3_BUCKET/<app>/ when .env sets OVU_BACKUP_S3_BUCKET.`,
    ...blockLines(
      {
        include: [
          ...sorted.map((a) => `${a.dir}/${APP_COMPOSE_FILE}`),
          // The derived kinds' own compose files (workspace/derived.ts).
          ...derivedIncludes(sorted, db !== undefined),
        ],
      },
      0,
      style,
    ),
  ];
  if (db && crud.length) {
    lines.push('', ...blockLines({ services: { [DB_INIT_SERVICE]: dbInitService(db, crud), [BACKUP_SERVICE]: backupService(db, crud), [BACKUP_UPLOAD_SERVICE]: backupUploadService() } }, 0, style));
    if (db.login.how === 'unknown') notes.push(db.login.why);
  }
  const text = lines.join('\n') + '\n';
  return { text: withEol(text, style), notes, dbInitEnv: db && crud.length ? dbInitEnvText(db.login) : undefined };
}
