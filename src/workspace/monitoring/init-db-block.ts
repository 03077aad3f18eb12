/**
 * init-db.sql's monitoring block: the exporter's login role and pg_stat_statements. It sits right
 * before the platform block (after every app block, since it grants CONNECT on the app databases)
 * and, like the app blocks, reads its role's SCRAM-SHA-256 verifier from the environment, so no
 * secret is in the file and the server never sees the password.
 */
import { quoteLiteral } from '../../database/render.ts';
import { PROVISION_LOCK_KEY } from '../../database/statements.ts';
import { MONITORING_SLUG } from '../init-db.ts';
import { VERIFIERS_ENV_FILE } from '../verifiers.ts';

export const MONITOR_ROLE = 'ovu_monitor';
export const MONITOR_PASSWORD_VAR = 'OVU_MONITOR_DB_PASSWORD';
export const MONITOR_VERIFIER_VAR = 'OVU_MONITOR_DB_VERIFIER';
/** Where the exporter's master connection goes and pg_stat_statements is created. */
export const MONITOR_HOME_DB = 'postgres';

/** The exporter opens one connection per database it reads, plus one to spare for a reconnect. */
export function monitorConnectionLimit(dbs: string[]): number {
  return dbs.length + 2;
}

export function monitoringBlock(dbs: string[]): string {
  const v = 'ovu_monitor_verifier';
  const limit = monitorConnectionLimit(dbs);
  const notSet = `init-db.sql: ${MONITOR_VERIFIER_VAR} is not set or is empty; keep it in ${VERIFIERS_ENV_FILE}, the env_file of the ovu-db-init service (create-ovu-app writes it there, and ${MONITOR_PASSWORD_VAR} in monitoring/.env; the monitoring block needs it to create role ${MONITOR_ROLE})`;
  const notScram = `init-db.sql: ${MONITOR_VERIFIER_VAR} is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$4096:...); delete it from ${VERIFIERS_ENV_FILE} and ${MONITOR_PASSWORD_VAR} from monitoring/.env and run create-ovu-app again to write new ones`;
  const dbList = [MONITOR_HOME_DB, ...dbs].map(quoteLiteral).join(', ');
  const roleOptions = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT ${limit}`;
  return [
    `-- >>> create-ovu-app: ${MONITORING_SLUG}`,
    `-- Monitoring (monitoring/compose.yaml): login role ${MONITOR_ROLE} for the postgres exporter, a member of`,
    '-- pg_monitor (it reads the statistics views, never the tables; not a superuser), allowed to CONNECT to',
    `-- ${MONITOR_HOME_DB} and to each app database, and the pg_stat_statements extension in ${MONITOR_HOME_DB} (the server`,
    '-- must load it: shared_preload_libraries=pg_stat_statements, see README). Written by create-ovu-app',
    '-- from the apps in this workspace; it stays right before the platform block. Safe to run again.',
    `-- The role's password arrives as ${MONITOR_VERIFIER_VAR}, its SCRAM-SHA-256 verifier, from the environment`,
    `-- (${VERIFIERS_ENV_FILE}) and is set on every run, so the exporter logs in with the password monitoring/.env has.`,
    '-- It needs a superuser (CREATE EXTENSION pg_stat_statements, GRANT pg_monitor); otherwise it is skipped.',
    `\\unset ${v}`,
    `\\getenv ${v} ${MONITOR_VERIFIER_VAR}`,
    `\\if :{?${v}}`,
    '\\else',
    `\\set ${v} ''`,
    '\\endif',
    `SELECT :'${v}' = '' AS ovu_monitor_missing, left(:'${v}', 14) <> 'SCRAM-SHA-256$' AS ovu_monitor_malformed,`,
    '  (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS ovu_monitor_super \\gset',
    '\\if :ovu_monitor_missing',
    '\\if :{?ovu_db_init}',
    `DO $ovu$BEGIN RAISE EXCEPTION ${quoteLiteral(notSet)}; END$ovu$;`,
    '\\else',
    `\\warn ${quoteLiteral(`init-db.sql: skipping monitoring (${MONITOR_VERIFIER_VAR} is not in this environment); the ovu-db-init service creates it`)}`,
    '\\endif',
    '\\elif :ovu_monitor_malformed',
    `DO $ovu$BEGIN RAISE EXCEPTION ${quoteLiteral(notScram)}; END$ovu$;`,
    '\\elif :ovu_monitor_super',
    `SELECT pg_advisory_lock(${PROVISION_LOCK_KEY}) IS NOT NULL AS ovu_monitor_locked \\gset`,
    `SELECT format('CREATE ROLE ${MONITOR_ROLE} ${roleOptions} PASSWORD %L', :'${v}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${MONITOR_ROLE}') \\gexec`,
    `SELECT format('ALTER ROLE ${MONITOR_ROLE} ${roleOptions} PASSWORD %L', :'${v}') \\gexec`,
    `SELECT 'GRANT pg_monitor TO ${MONITOR_ROLE}' WHERE NOT pg_has_role('${MONITOR_ROLE}', 'pg_monitor', 'MEMBER') \\gexec`,
    `SELECT format('GRANT CONNECT ON DATABASE %I TO ${MONITOR_ROLE}', datname) FROM pg_database WHERE datname IN (${dbList}) ORDER BY datname \\gexec`,
    `SELECT pg_advisory_unlock(${PROVISION_LOCK_KEY}) AS ovu_monitor_locked \\gset`,
    // \connect ends the session (and its advisory lock): after the unlock.
    `\\connect ${MONITOR_HOME_DB}`,
    'CREATE EXTENSION IF NOT EXISTS pg_stat_statements;',
    '\\else',
    `\\warn ${quoteLiteral(`init-db.sql: skipping monitoring (it needs a superuser to CREATE EXTENSION pg_stat_statements and GRANT pg_monitor to ${MONITOR_ROLE})`)}`,
    '\\endif',
    `\\unset ${v}`,
    '\\unset ovu_monitor_missing',
    '\\unset ovu_monitor_malformed',
    '\\unset ovu_monitor_super',
    '\\unset ovu_monitor_locked',
    `-- <<< create-ovu-app: ${MONITORING_SLUG}`,
  ].join('\n');
}
