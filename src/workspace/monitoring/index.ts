/**
 * Monitoring per app database (ADR-002 "Monitoring"), a derived kind (workspace/derived.ts): from
 * the workspace's crud apps it computes monitoring/compose.yaml (a Prometheus postgres exporter,
 * Prometheus and Grafana, all in the compose profile `monitoring`), the exporter's queries, the
 * Prometheus and Grafana provisioning, one dashboard per app, init-db.sql's monitoring block (the
 * exporter's role ovu_monitor and pg_stat_statements) and the role's password (monitoring/.env) and verifier
 * (ovu-db-init/verifiers/.env).
 * apps.compose.yaml includes monitoring/compose.yaml whenever it runs ovu-db-init (there is a
 * database and a crud app), and this kind writes the files exactly then.
 *
 * Why a profile: `docker compose up` of a developer's platform should not pull and run three more
 * images nobody looks at; `docker compose --profile monitoring up` adds them to the same project. The
 * parts that must exist before (the role, the extension, the server setting) are made on every up.
 */
import path from 'node:path';
import { parse } from 'yaml';
import type { DerivedContext, DerivedFile } from '../derived.ts';
import { APPS_COMPOSE_FILE, DB_INIT_SERVICE, isObj, type Obj } from '../compose/model.ts';
import { DEFAULT_STYLE, Quoted, blockLines, type YMap } from '../compose/render.ts';
import { ensureEnvVar, readEnvVar, removeEnvVar, setEnvVar } from '../env-file.ts';
import { generatePassword } from '../../database/passwords.ts';
import { scramVerifier, verifierMatches } from '../../database/scram.ts';
import { MONITORING_SLUG, setWorkspaceBlock } from '../init-db.ts';
import { queriesYaml } from './queries.ts';
import { ALERTS_FILE, alertsYaml } from './alerts.ts';
import { DATASOURCE_UID, dashboardJson } from './dashboard.ts';
import { perAppFiles } from '../per-app-files.ts';
import { readVerifier, removeVerifierText, setVerifierText, VERIFIERS_ENV_FILE } from '../verifiers.ts';
import { MONITOR_HOME_DB, MONITOR_PASSWORD_VAR, MONITOR_ROLE, MONITOR_VERIFIER_VAR, monitoringBlock } from './init-db-block.ts';

export { MONITOR_PASSWORD_VAR, MONITOR_ROLE, MONITOR_VERIFIER_VAR } from './init-db-block.ts';

export const MONITORING_DIR = 'monitoring';
/** What apps.compose.yaml includes. */
export const MONITORING_COMPOSE_FILE = `${MONITORING_DIR}/compose.yaml`;
export const MONITORING_ENV_FILE = `${MONITORING_DIR}/.env`;
export const MONITORING_ENV_EXAMPLE = `${MONITORING_DIR}/.env.example`;
export const MONITORING_PROFILE = 'monitoring';
export const EXPORTER_SERVICE = 'ovu-postgres-exporter';
export const PROMETHEUS_SERVICE = 'ovu-prometheus';
export const GRAFANA_SERVICE = 'ovu-grafana';
export const GRAFANA_PASSWORD_VAR = 'OVU_GRAFANA_ADMIN_PASSWORD';
export const DASHBOARDS_DIR = `${MONITORING_DIR}/grafana/dashboards`;

/**
 * Pinned images. The exporter is the release Debian 12 ships (0.11.1), the one the tests run with
 * the generated queries; Prometheus 2.53 is an LTS release.
 */
export const IMAGES = {
  exporter: 'quay.io/prometheuscommunity/postgres-exporter:v0.11.1',
  prometheus: 'prom/prometheus:v2.53.1',
  grafana: 'grafana/grafana:11.1.0',
} as const;

/** Where the exporter reads its queries inside its container. */
const QUERIES_IN_CONTAINER = '/etc/ovu/queries.yaml';

const HEADER = (file: string): string => `# ${file}: written by create-ovu-app from the apps in this workspace; do not edit.`;

/** The database service as apps.compose.yaml's ovu-db-init reaches it (undefined: no ovu-db-init). */
function databaseOf(ctx: DerivedContext): { host: string; port: string; networks: string[] } | undefined {
  if ('database' in ctx) return ctx.database;
  const text = ctx.read(path.join(ctx.root, APPS_COMPOSE_FILE));
  if (text === undefined) return undefined;
  const js = parse(text) as Obj | null;
  const services = isObj(js) && isObj(js['services']) ? js['services'] : {};
  const init = services[DB_INIT_SERVICE];
  if (!isObj(init) || !isObj(init['environment'])) return undefined;
  const env = init['environment'];
  const networks = Array.isArray(init['networks']) ? init['networks'].map(String) : [];
  return { host: String(env['PGHOST']), port: String(env['PGPORT'] ?? '5432'), networks };
}

function composeText(db: { host: string; port: string; networks: string[] }, dbs: string[]): string {
  const reach: YMap = db.networks.length ? { networks: db.networks } : {};
  const profiles = [MONITORING_PROFILE];
  const exporter: YMap = {
    image: IMAGES.exporter,
    profiles,
    // Only queries.yaml's metrics: the built-in collectors report on every database of the server.
    command: ['--no-collector.database', '--no-collector.bgwriter'],
    environment: {
      DATA_SOURCE_NAME: `postgresql://${MONITOR_ROLE}:\${${MONITOR_PASSWORD_VAR}}@${db.host}:${db.port}/${MONITOR_HOME_DB}?sslmode=disable`,
      PG_EXPORTER_AUTO_DISCOVER_DATABASES: new Quoted('true'),
      PG_EXPORTER_INCLUDE_DATABASES: dbs.join(','),
      PG_EXPORTER_DISABLE_DEFAULT_METRICS: new Quoted('true'),
      PG_EXPORTER_DISABLE_SETTINGS_METRICS: new Quoted('true'),
      PG_EXPORTER_EXTEND_QUERY_PATH: QUERIES_IN_CONTAINER,
    },
    volumes: [`./queries.yaml:${QUERIES_IN_CONTAINER}:ro`],
    depends_on: { [DB_INIT_SERVICE]: { condition: 'service_completed_successfully' } },
    ...reach,
  };
  const prometheus: YMap = {
    image: IMAGES.prometheus,
    profiles,
    volumes: ['./prometheus.yml:/etc/prometheus/prometheus.yml:ro', './alerts.yml:/etc/prometheus/alerts.yml:ro', 'ovu_prometheus_data:/prometheus'],
    ports: [new Quoted('127.0.0.1:${OVU_PROMETHEUS_PORT:-9090}:9090')],
    depends_on: [EXPORTER_SERVICE],
    ...reach,
  };
  const grafana: YMap = {
    image: IMAGES.grafana,
    profiles,
    environment: {
      GF_SECURITY_ADMIN_PASSWORD: `\${${GRAFANA_PASSWORD_VAR}}`,
      GF_USERS_ALLOW_SIGN_UP: new Quoted('false'),
    },
    volumes: ['./grafana/provisioning:/etc/grafana/provisioning:ro', './grafana/dashboards:/etc/ovu/dashboards:ro', 'ovu_grafana_data:/var/lib/grafana'],
    ports: [new Quoted('127.0.0.1:${OVU_GRAFANA_PORT:-3000}:3000')],
    depends_on: [PROMETHEUS_SERVICE],
    ...reach,
  };
  const lines = [
    HEADER(MONITORING_COMPOSE_FILE),
    `# Started only with the profile: docker compose --profile ${MONITORING_PROFILE} up. Grafana on http://localhost:3000`,
    `# (admin, ${GRAFANA_PASSWORD_VAR} from monitoring/.env), Prometheus on http://localhost:9090, both on 127.0.0.1 only.`,
    `# ${EXPORTER_SERVICE} logs in as ${MONITOR_ROLE} (pg_monitor, no superuser), created by init-db.sql.`,
    ...blockLines({ services: { [EXPORTER_SERVICE]: exporter, [PROMETHEUS_SERVICE]: prometheus, [GRAFANA_SERVICE]: grafana } }, 0, DEFAULT_STYLE),
    '',
    ...blockLines({ volumes: { ovu_prometheus_data: null, ovu_grafana_data: null } }, 0, DEFAULT_STYLE),
  ];
  return lines.join('\n') + '\n';
}

function prometheusText(): string {
  return [
    HEADER(`${MONITORING_DIR}/prometheus.yml`),
    'global:',
    '  scrape_interval: 15s',
    '  evaluation_interval: 15s',
    '# The alerting rules (also deploy/k8s/monitoring.yaml\'s PrometheusRule); firing alerts show on /alerts.',
    'rule_files:',
    '  - /etc/prometheus/alerts.yml',
    'scrape_configs:',
    '  - job_name: ovu-postgres',
    '    static_configs:',
    `      - targets: ['${EXPORTER_SERVICE}:9187']`,
    '',
  ].join('\n');
}

function datasourceText(): string {
  return [
    HEADER(`${MONITORING_DIR}/grafana/provisioning/datasources/prometheus.yaml`),
    'apiVersion: 1',
    'datasources:',
    '  - name: Prometheus',
    '    type: prometheus',
    `    uid: ${DATASOURCE_UID}`,
    '    access: proxy',
    `    url: http://${PROMETHEUS_SERVICE}:9090`,
    '    isDefault: true',
    '    editable: false',
    '',
  ].join('\n');
}

function dashboardProviderText(): string {
  return [
    HEADER(`${MONITORING_DIR}/grafana/provisioning/dashboards/ovu.yaml`),
    'apiVersion: 1',
    'providers:',
    '  - name: ovu',
    '    folder: OVU databases',
    '    type: file',
    '    disableDeletion: true',
    '    allowUiUpdates: false',
    '    options:',
    '      path: /etc/ovu/dashboards',
    '',
  ].join('\n');
}

/**
 * monitoring/.env holds the exporter's and Grafana's passwords: Compose interpolates
 * monitoring/compose.yaml from it, and a service that loads the workspace .env whole
 * (`env_file: .env`) does not get a login that can read every app's statistics. The workspace .env
 * keeps none of it: the role's SCRAM-SHA-256 verifier is in ovu-db-init's own env file.
 */
function envFiles(ctx: DerivedContext): DerivedFile[] {
  const ownPath = path.join(ctx.root, MONITORING_ENV_FILE);
  const envPath = path.join(ctx.root, '.env');
  let own = ctx.read(ownPath);
  const password = readEnvVar(own, MONITOR_PASSWORD_VAR) || generatePassword();
  own = ensureEnvVar(own, MONITOR_PASSWORD_VAR, password, `password of ${MONITOR_ROLE}, the postgres exporter's login (only ovu-postgres-exporter gets it); keep this file out of git`);
  own = ensureEnvVar(own, GRAFANA_PASSWORD_VAR, generatePassword(), "password of Grafana's admin user");
  // The verifier lives in ovu-db-init's own env file (workspace/verifiers.ts); a workspace made before 0.4's copy leaves .env,
  // but only once apps.compose.yaml loads that file: one written before 0.4 still passes ovu-db-init the
  // .env value, and new, update and remove, which write it again, move the verifier in the same plan.
  const comment = `monitoring: SCRAM-SHA-256 verifier of ${MONITOR_PASSWORD_VAR} (${MONITORING_ENV_FILE}) for ovu-db-init; it cannot log in`;
  const env = ctx.read(envPath);
  const inEnv = readEnvVar(env, MONITOR_VERIFIER_VAR);
  if (inEnv !== undefined && !(ctx.read(path.join(ctx.root, APPS_COMPOSE_FILE)) ?? '').includes(VERIFIERS_ENV_FILE)) {
    const kept = verifierMatches(password, inEnv) ? env! : setEnvVar(env, MONITOR_VERIFIER_VAR, scramVerifier(password), comment);
    return [...ownFiles(own, ctx), { path: '.env', text: kept, mode: 0o600, secret: true }];
  }
  const verifiersPath = path.join(ctx.root, VERIFIERS_ENV_FILE);
  const verifier = readVerifier(ctx.read, ctx.root, MONITOR_VERIFIER_VAR);
  const value = verifier && verifierMatches(password, verifier) ? verifier : scramVerifier(password);
  const verifiers = setVerifierText(ctx.read(verifiersPath), MONITOR_VERIFIER_VAR, value, comment);
  const legacy: DerivedFile[] = inEnv === undefined ? [] : [{ path: '.env', text: removeEnvVar(env, MONITOR_VERIFIER_VAR, 'monitoring:')!, mode: 0o600, secret: true }];
  return [...ownFiles(own, ctx), { path: VERIFIERS_ENV_FILE, text: verifiers, mode: 0o600, secret: true }, ...legacy];
}

/** monitoring/.env and its example. */
function ownFiles(own: string, ctx: DerivedContext): DerivedFile[] {
  let example = ctx.read(path.join(ctx.root, MONITORING_ENV_EXAMPLE));
  example = ensureEnvVar(example, MONITOR_PASSWORD_VAR, 'change-me', `copy to .env (ignored by git); password of ${MONITOR_ROLE}`);
  example = ensureEnvVar(example, GRAFANA_PASSWORD_VAR, 'change-me', "password of Grafana's admin user");
  return [
    { path: MONITORING_ENV_FILE, text: own, mode: 0o600, secret: true },
    { path: MONITORING_ENV_EXAMPLE, text: example },
  ];
}

export function monitoringKind(ctx: DerivedContext): DerivedFile[] {
  const crud = ctx.apps.filter((a) => a.spec.settings.kind === 'crud');
  const db = crud.length ? databaseOf(ctx) : undefined;
  const initDbPath = path.join(ctx.root, 'init-db.sql');
  const initDb = ctx.read(initDbPath);
  const fixed = [
    MONITORING_COMPOSE_FILE,
    `${MONITORING_DIR}/queries.yaml`,
    `${MONITORING_DIR}/prometheus.yml`,
    `${MONITORING_DIR}/grafana/provisioning/datasources/prometheus.yaml`,
    `${MONITORING_DIR}/grafana/provisioning/dashboards/ovu.yaml`,
    ALERTS_FILE,
  ];
  if (!db) {
    const files: DerivedFile[] = [...fixed].map((p): DerivedFile => ({ path: p, text: undefined }));
    files.push(...perAppFiles(ctx, [], DASHBOARDS_DIR, '.json', dashboardJson));
    files.push({ path: MONITORING_ENV_FILE, text: undefined }, { path: MONITORING_ENV_EXAMPLE, text: undefined });
    if (initDb !== undefined && /^-- >>> create-ovu-app: monitoring\s*$/m.test(initDb)) files.push({ path: 'init-db.sql', text: setWorkspaceBlock(initDb, MONITORING_SLUG, undefined) });
    // The verifier goes with the last crud app, with the comment create-ovu-app wrote above it.
    const verifiers = ctx.read(path.join(ctx.root, VERIFIERS_ENV_FILE));
    if (readEnvVar(verifiers, MONITOR_VERIFIER_VAR) !== undefined) files.push({ path: VERIFIERS_ENV_FILE, text: removeVerifierText(verifiers, MONITOR_VERIFIER_VAR, 'monitoring:'), mode: 0o600, secret: true });
    const env = ctx.read(path.join(ctx.root, '.env'));
    if (readEnvVar(env, MONITOR_VERIFIER_VAR) !== undefined) files.push({ path: '.env', text: removeEnvVar(env, MONITOR_VERIFIER_VAR, 'monitoring:'), mode: 0o600, secret: true });
    return files;
  }
  const dbs = crud.map((a) => a.spec.names.db).sort();
  const texts = [composeText(db, dbs), queriesYaml(dbs), prometheusText(), datasourceText(), dashboardProviderText(), alertsYaml()];
  const files: DerivedFile[] = fixed.map((p, i) => ({ path: p, text: texts[i] }));
  // One dashboard per crud app.
  files.push(...perAppFiles(ctx, crud, DASHBOARDS_DIR, '.json', dashboardJson));
  if (initDb !== undefined) files.push({ path: 'init-db.sql', text: setWorkspaceBlock(initDb, MONITORING_SLUG, monitoringBlock(dbs)) });
  files.push(...envFiles(ctx));
  return files;
}

/** apps.compose.yaml includes the monitoring file exactly when monitoringKind writes it. */
export function includesMonitoring(hasDatabase: boolean, crudApps: number): boolean {
  return hasDatabase && crudApps > 0;
}
