/**
 * The SQL create-ovu-app writes into init-db.sql: the file's header, one block per app (the app's
 * role and database from its SCRAM verifier, ADR-002's grants) and the platform block.
 */
import { quoteLiteral, renderPsql } from '../database/render.ts';
import { APP_STATEMENTS, PLATFORM_STATEMENTS, PROVISION_LOCK_KEY, appValues, psqlVerifierVar } from '../database/statements.ts';
import { pgbouncerPoolSize, serverConnectionLimit } from '../database/budget.ts';
import type { AppSpec } from '../app/spec.ts';
import { PLATFORM_SLUG, assertSlug, endMarker, startMarker } from './init-db-markers.ts';
import { VERIFIERS_ENV_FILE } from './verifiers.ts';

export const HEADER = [
  '-- init-db.sql: PostgreSQL initialisation for the OVU platform (ADR-002: one database per app, shared ULM).',
  '--',
  '-- The one-shot ovu-db-init compose service runs this file on every `docker compose up`, as the',
  '-- superuser, with each app\'s variables in its environment:',
  '--   psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc -f init-db.sql',
  '-- (the postgres image may also run it once on an empty volume, without them: app blocks then',
  '-- skip themselves). `create-ovu-app provision` does the same for one app on any server; every',
  '-- create-ovu-app block is safe to run again.',
  '--',
  '-- create-ovu-app manages the blocks between "-- >>> create-ovu-app: <name>" and',
  '-- "-- <<< create-ovu-app: <name>" lines and rewrites only those; everything else in this file is',
  '-- yours (put the ULM section and your own statements above the platform block).',
  '-- No secret is written here: each block reads its app role\'s SCRAM-SHA-256 verifier from the',
  '-- environment (\\getenv), e.g. INVENTORY_DB_VERIFIER, which ovu-db-init loads from',
  `-- ${VERIFIERS_ENV_FILE} (its own env_file); the password itself is never needed.`,
];

/**
 * Headers earlier versions wrote (the file keeps the one it was created with: create-ovu-app
 * rewrites only its blocks), so a file that is still exactly one of them and the platform block can go.
 */
export const PAST_HEADERS: readonly (readonly string[])[] = [
  [
    ...HEADER.slice(0, -3),
    '-- No secret is written here: each block reads its app role\'s SCRAM-SHA-256 verifier from the',
    '-- environment (\\getenv), e.g. INVENTORY_DB_VERIFIER from .env; the password itself is never needed.',
  ],
];

/**
 * The per-app block, markers included, lines joined with "\n" (no trailing newline).
 *
 * It reads the app's SCRAM-SHA-256 verifier from the environment (initDbEnvVars in app/names.ts
 * names it): the one-shot `ovu-db-init` service runs the file with `-v ovu_db_init=1` and that
 * variable set, and a missing one stops it with an error. The postgres image's own entrypoint may
 * also run the file once, on an empty volume, without the app variables: then the block is skipped
 * with a warning and ovu-db-init creates the app right after.
 */
export function initDbBlock(spec: AppSpec): string {
  const { slug, title, user, db, verifierVar } = spec.names;
  assertSlug(slug);
  if (!/^[A-Z_][A-Z0-9_]*$/.test(verifierVar)) {
    throw new Error(`invalid verifier variable name ${JSON.stringify(verifierVar)}`);
  }
  const v = psqlVerifierVar(spec);
  const missing = `${v}_missing`;
  const malformed = `${v}_malformed`;
  const limit = serverConnectionLimit(spec.settings);
  const values = appValues(spec, { psqlVar: v }, { connLimit: limit });
  const notSet = `init-db.sql: ${verifierVar} is not set or is empty; keep it in ${VERIFIERS_ENV_FILE}, the env_file of the ovu-db-init service (create-ovu-app writes it there; the ${title} block needs it to create role ${user})`;
  const notScram = `init-db.sql: ${verifierVar} is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$4096:...); run \`create-ovu-app provision ${slug}\` to write it again`;
  return [
    startMarker(slug),
    `-- ${title}: database ${db}, owned by login role ${user} (ADR-002: one database per app).`,
    '-- Written by create-ovu-app, which rewrites only what is between these markers (--force).',
    '-- Safe to run again: every statement is guarded, so a second run changes nothing. An existing',
    `-- role keeps its password; change it with \`create-ovu-app provision --reset-password\`.`,
    `-- The role's password arrives as ${verifierVar}, its SCRAM-SHA-256 verifier, from the environment`,
    `-- (${VERIFIERS_ENV_FILE}): neither the password nor the verifier is written to this file, and the server never`,
    spec.settings.pgbouncer
      ? `-- sees the password. CONNECTION LIMIT ${limit} = PgBouncer's pool for it (${pgbouncerPoolSize(spec.settings.pool)} = pool ${spec.settings.pool.size} + overflow ${spec.settings.pool.maxOverflow}) + 1.`
      : `-- sees the password. CONNECTION LIMIT ${limit} = (pool ${spec.settings.pool.size} + overflow ${spec.settings.pool.maxOverflow}) x ${spec.settings.processes} process(es) + 1.`,
    '-- No \\c here on purpose: everything below works on cluster-wide objects (roles, databases,',
    '-- database privileges, the shared catalogs), so it runs the same from whichever database an',
    '-- earlier \\c left this session in. It needs a superuser, or a role with CREATEROLE and CREATEDB',
    '-- (PostgreSQL 15 to 18: it grants itself the app role for the block and takes it back).',
    `\\unset ${v}`,
    `\\getenv ${v} ${verifierVar}`,
    `\\if :{?${v}}`,
    '\\else',
    `\\set ${v} ''`,
    '\\endif',
    `SELECT :'${v}' = '' AS ${missing}, left(:'${v}', 14) <> 'SCRAM-SHA-256$' AS ${malformed} \\gset`,
    `\\if :${missing}`,
    '\\if :{?ovu_db_init}',
    `DO $ovu$BEGIN RAISE EXCEPTION ${quoteLiteral(notSet)}; END$ovu$;`,
    '\\else',
    `\\warn ${quoteLiteral(`init-db.sql: skipping ${title} (${verifierVar} is not in this environment); the ovu-db-init service creates it`)}`,
    '\\endif',
    `\\elif :${malformed}`,
    `DO $ovu$BEGIN RAISE EXCEPTION ${quoteLiteral(notScram)}; END$ovu$;`,
    '\\else',
    `SELECT pg_advisory_lock(${PROVISION_LOCK_KEY}) IS NOT NULL AS ${v}_locked \\gset`,
    ...APP_STATEMENTS.map((statement) => renderPsql(statement, values)),
    `SELECT pg_advisory_unlock(${PROVISION_LOCK_KEY}) AS ${v}_locked \\gset`,
    '\\endif',
    `\\unset ${v}`,
    `\\unset ${missing}`,
    `\\unset ${malformed}`,
    `\\unset ${v}_locked`,
    endMarker(slug),
  ].join('\n');
}

/** The platform block, markers included. */
export function platformBlock(): string {
  return [
    startMarker(PLATFORM_SLUG),
    '-- Platform hardening (ADR-002: no cross-database access). Keep this the LAST block in the file,',
    '-- after the ULM section and every app block, so that every database exists when it runs.',
    '-- PostgreSQL lets PUBLIC (every role) CONNECT to and create TEMPORARY tables in each new database;',
    '-- this revokes that on every database that accepts connections, template1 included (template0',
    '-- accepts none). Superusers, database owners and roles granted CONNECT explicitly (ulm_user via',
    '-- GRANT ALL PRIVILEGES ON DATABASE ulm_db) keep their access. CREATE DATABASE still works:',
    '-- database privileges are not copied from template1, so a new database starts open again until',
    '-- its own block or `create-ovu-app provision` closes it.',
    '-- No \\c needed: pg_database is a shared catalog, visible from any database. Run by a role with',
    '-- only CREATEROLE and CREATEDB, it closes the databases whose owner it can act for and leaves the',
    '-- others (postgres, template1, ...) to their owner: `create-ovu-app provision` names them.',
    `SELECT pg_advisory_lock(${PROVISION_LOCK_KEY}) IS NOT NULL AS ovu_platform_locked \\gset`,
    ...PLATFORM_STATEMENTS.map((statement) => renderPsql(statement, {})),
    `SELECT pg_advisory_unlock(${PROVISION_LOCK_KEY}) AS ovu_platform_locked \\gset`,
    '\\unset ovu_platform_locked',
    endMarker(PLATFORM_SLUG),
  ].join('\n');
}

/** A generated block as lines. */
export function blockLines(block: string): string[] {
  return block.split('\n');
}
