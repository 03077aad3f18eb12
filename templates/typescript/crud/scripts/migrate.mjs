#!/usr/bin/env node
/**
 * Applies prisma/migrations: with Prisma's own `prisma migrate deploy` where Prisma's schema
 * engine can be had, and otherwise with the runner in this file, which needs no engine (the
 * engine is a native binary Prisma downloads on first use; see README.md, "Migrations").
 *
 *   node scripts/migrate.mjs [deploy]                 prisma migrate deploy, or the bundled runner  (npm run migrate)
 *   node scripts/migrate.mjs deploy --bundled         the bundled runner, whatever is available     (npm run migrate:offline)
 *   node scripts/migrate.mjs status                   applied and pending; exit 1 with any pending  (npm run migrate:status)
 *   node scripts/migrate.mjs resolve --applied <name>      record <name> as applied without running it (baseline)
 *   node scripts/migrate.mjs resolve --rolled-back <name>  record the failed <name> as rolled back, so deploy retries it
 *
 * `deploy` says which one it runs, and why. DATABASE_URL comes from the environment, then
 * backend/.env. `?schema=` selects the schema, as Prisma does (default "public"); the app
 * (src/db.ts) reads it the same way.
 *
 * Bookkeeping is Prisma's own, so both runners, `prisma migrate status` and `prisma migrate
 * resolve` can be mixed:
 * - table `_prisma_migrations`, created with Prisma's DDL when missing (on an empty schema only:
 *   like Prisma, a non-empty schema without that table is refused until it is baselined with
 *   `resolve --applied`);
 * - migrations are the folders of prisma/migrations holding a migration.sql, applied in name
 *   order, each recorded with a random UUID `id`, `checksum` = sha256 (hex) of migration.sql,
 *   `migration_name` = folder name, `started_at`, `finished_at`, `applied_steps_count` = 1;
 * - Prisma's advisory lock (72707369) is held meanwhile, so it never runs beside Prisma Migrate.
 *
 * A migration runs in one transaction with its record, so a failing one leaves nothing behind.
 * One that cannot run in a transaction (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY,
 * VACUUM, ALTER TYPE ... ADD VALUE, CREATE DATABASE, or its own BEGIN/COMMIT) runs as Prisma runs
 * every migration: statement by statement, outside a transaction; if it fails it stays recorded
 * as failed (Prisma's P3009) until `resolve` says what became of it.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const require = createRequire(import.meta.url);
const BACKEND = fileURLToPath(new URL('..', import.meta.url));
// MIGRATIONS_DIR: another folder of migrations, for tests of this script.
const MIGRATIONS_DIR = process.env.MIGRATIONS_DIR ?? path.join(BACKEND, 'prisma', 'migrations');
const TABLE = '_prisma_migrations';
const ADVISORY_LOCK = 72707369; // Prisma Migrate's lock key
const LOCK_TIMEOUT_MS = 10_000; // as Prisma

// The DDL Prisma's schema engine uses for PostgreSQL.
const CREATE_TABLE = `CREATE TABLE ${TABLE} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

class MigrateError extends Error {}

/**
 * A row of _prisma_migrations, as this script reads it.
 * @typedef {object} MigrationRow
 * @property {string} id
 * @property {string} checksum
 * @property {string} migration_name
 * @property {Date | null} finished_at
 * @property {Date | null} rolled_back_at
 */

/**
 * sha256 of the script, as lowercase hex: Prisma's migration checksum.
 * @param {string} script
 */
function checksum(script) {
  return crypto.createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Prisma accepts a checksum taken with LF or CRLF line endings (git may have converted them).
 * @param {string} script
 * @param {string} sum
 */
function matchesChecksum(script, sum) {
  return [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')].some((s) => checksum(s) === sum);
}

function localMigrations() {
  if (!fs.existsSync(MIGRATIONS_DIR)) throw new MigrateError(`No migrations folder at ${MIGRATIONS_DIR}`);
  const lock = path.join(MIGRATIONS_DIR, 'migration_lock.toml');
  if (fs.existsSync(lock)) {
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(fs.readFileSync(lock, 'utf8'))?.[1];
    if (provider && provider !== 'postgresql') {
      throw new MigrateError(`prisma/migrations was written for "${provider}", not PostgreSQL (migration_lock.toml)`);
    }
  }
  return fs
    .readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b)) // Prisma's order
    .map((name) => {
      const file = path.join(MIGRATIONS_DIR, name, 'migration.sql');
      if (!fs.existsSync(file)) throw new MigrateError(`Migration ${name} has no migration.sql (${file})`);
      return { name, script: fs.readFileSync(file, 'utf8') };
    });
}

function connectionSettings() {
  const envFile = path.join(BACKEND, '.env');
  if (!process.env.DATABASE_URL && fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const raw = process.env.DATABASE_URL;
  if (!raw) throw new MigrateError('DATABASE_URL is not set (environment or backend/.env)');
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new MigrateError('DATABASE_URL is not a valid URL');
  }
  if (!['postgresql:', 'postgres:'].includes(url.protocol)) {
    throw new MigrateError(`DATABASE_URL must be a postgresql:// URL, got ${url.protocol}//`);
  }
  const schema = url.searchParams.get('schema') || 'public';
  url.searchParams.delete('schema'); // Prisma's parameter, not libpq's
  const where = `PostgreSQL database "${decodeURIComponent(url.pathname.slice(1))}", schema "${schema}" at "${url.hostname}:${url.port || 5432}"`;
  return { connectionString: url.toString(), schema, where };
}

/** @param {pg.Client} client */
async function acquireLock(client) {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    /** @type {pg.QueryResult<{ locked: boolean }>} */
    const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS locked', [ADVISORY_LOCK]);
    if (rows[0]?.locked) return;
    if (Date.now() > deadline) {
      throw new MigrateError(`Timed out after ${LOCK_TIMEOUT_MS / 1000} s waiting for the migration lock (another migrate is running?)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * @param {pg.Client} client
 * @param {string} schema
 * @param {Readonly<{ create: boolean, baseline: boolean }>} options
 * @returns {Promise<MigrationRow[]>}
 */
async function appliedMigrations(client, schema, { create, baseline }) {
  const { rows: found } = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'`,
    [schema, TABLE],
  );
  if (found.length === 0) {
    /** @type {pg.QueryResult<{ relname: string }>} */
    const { rows: tables } = await client.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
      [schema],
    );
    if (tables.length > 0 && !baseline) {
      throw new MigrateError(
        `The database schema "${schema}" is not empty (${tables.map((t) => t.relname).join(', ')}) and has no ${TABLE} table. ` +
          'Like Prisma (P3005), this will not guess what is applied: baseline it with `node scripts/migrate.mjs resolve --applied <migration>`.',
      );
    }
    if (create) await client.query(CREATE_TABLE);
    return [];
  }
  /** @type {pg.QueryResult<MigrationRow>} */
  const { rows } = await client.query(
    `SELECT id, checksum, migration_name, finished_at, rolled_back_at FROM ${TABLE} ORDER BY started_at`,
  );
  return rows;
}

/**
 * Statements of a migration script, split at the semicolons that end them (not those inside
 * quotes, dollar quotes or comments).
 * @param {string} sql
 * @returns {string[]}
 */
export function splitStatements(sql) {
  /** @type {string[]} */
  const out = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  /** @param {string} quote */
  const skipQuoted = (quote, backslashEscapes = false) => {
    i++;
    while (i < n) {
      if (backslashEscapes && sql[i] === '\\') i += 2;
      else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
      else if (sql[i++] === quote) return;
    }
  };
  while (i < n) {
    const c = sql[i];
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      } while (i < n && depth > 0);
    } else if (c === "'") {
      skipQuoted("'", /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? ''));
    } else if (c === '"') {
      skipQuoted('"');
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '') && /^\$(?:[A-Za-z_]\w*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$(?:[A-Za-z_]\w*)?\$/.exec(sql.slice(i, i + 64))?.[0] ?? '$$';
      const end = sql.indexOf(tag, i + tag.length);
      i = end === -1 ? n : end + tag.length;
    } else if (c === ';') {
      out.push(sql.slice(start, i));
      start = ++i;
    } else {
      i++;
    }
  }
  out.push(sql.slice(start));
  return out.map((statement) => statement.trim()).filter((statement) => codeOf(statement) !== '');
}

/**
 * A statement without its comments, for telling what kind of statement it is.
 * @param {string} statement
 */
function codeOf(statement) {
  return statement.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').trim();
}

/** Statements PostgreSQL refuses inside a transaction block, and a script's own transaction control. */
const OUTSIDE_TRANSACTION = [
  /^(CREATE|DROP)\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b/i,
  /^REINDEX\b[\s\S]*\bCONCURRENTLY\b/i,
  /^VACUUM\b/i,
  /^ALTER\s+TYPE\b[\s\S]*\bADD\s+VALUE\b/i,
  /^(CREATE|DROP)\s+(DATABASE|TABLESPACE)\b/i,
  /^ALTER\s+SYSTEM\b/i,
  /^(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK)\b/i,
];

/**
 * Whether a migration must run outside a transaction, statement by statement.
 * @param {string[]} statements
 */
export function needsNoTransaction(statements) {
  return statements.some((statement) => OUTSIDE_TRANSACTION.some((re) => re.test(codeOf(statement))));
}

/**
 * @typedef {object} EngineCheck
 * @property {boolean} ok
 * @property {string} [why] when not ok, what went wrong
 */

/**
 * A migration of prisma/migrations: its folder name and its migration.sql.
 * @typedef {object} LocalMigration
 * @property {string} name
 * @property {string} script
 */

/** The Prisma CLI's entry point, if the prisma package is installed (not in a production install). */
async function prismaCli() {
  try {
    const manifest = require.resolve('prisma/package.json');
    const { default: prisma } = await import('prisma/package.json', { with: { type: 'json' } });
    return path.join(path.dirname(manifest), prisma.bin.prisma);
  } catch {
    return undefined;
  }
}

/**
 * Whether Prisma's schema engine is here or can be downloaded: `prisma --version` needs it, and
 * fetches it when it is missing.
 * @param {string} cli
 * @returns {EngineCheck}
 */
function schemaEngine(cli) {
  const r = spawnSync(process.execPath, [cli, '--version'], {
    cwd: BACKEND,
    env: { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status === 0) return { ok: true };
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return { ok: false, why: r.error?.message ?? lines.findLast((l) => /error|fail/i.test(l)) ?? lines.at(-1) ?? `exit code ${r.status}` };
}

/** @param {pg.Client} client @param {string} sql @param {unknown[]} [values] */
const run = (client, sql, values) => client.query(sql, values);

/**
 * Applies one pending migration, in a transaction unless it cannot run in one.
 * @param {pg.Client} client
 * @param {LocalMigration} migration
 */
async function apply(client, migration) {
  const id = crypto.randomUUID();
  const record = `INSERT INTO ${TABLE} (id, checksum, started_at, migration_name) VALUES ($1, $2, $3, $4)`;
  const finish = `UPDATE ${TABLE} SET applied_steps_count = 1, finished_at = $2 WHERE id = $1`;
  const statements = splitStatements(migration.script);
  if (!needsNoTransaction(statements)) {
    await run(client, 'BEGIN');
    try {
      await run(client, record, [id, checksum(migration.script), new Date(), migration.name]);
      if (statements.length > 0) await run(client, migration.script); // simple protocol: the whole script at once
      await run(client, finish, [id, new Date()]);
      await run(client, 'COMMIT');
    } catch (caught) {
      await run(client, 'ROLLBACK').catch(() => {});
      throw new MigrateError(`Migration ${migration.name} failed and was rolled back, nothing of it is applied:\n${describe(caught)}`);
    }
    return;
  }
  console.log(`  (outside a transaction, statement by statement: it has statements PostgreSQL runs only so)`);
  await run(client, record, [id, checksum(migration.script), new Date(), migration.name]);
  for (const [index, statement] of statements.entries()) {
    try {
      await run(client, statement);
    } catch (caught) {
      const why = describe(caught);
      await run(client, `UPDATE ${TABLE} SET logs = $2 WHERE id = $1`, [id, `statement ${index + 1}: ${why}`]).catch(() => {});
      throw new MigrateError(
        `Migration ${migration.name} failed at statement ${index + 1} of ${statements.length}, outside a transaction: what ran before it stays.\n${why}\n` +
          `It is recorded as failed. Fix the database, then: node scripts/migrate.mjs resolve --rolled-back ${migration.name} (to run it again) or --applied ${migration.name}.`,
      );
    }
  }
  await run(client, finish, [id, new Date()]);
}

/** @param {unknown} caught */
function describe(caught) {
  const error = /** @type {Error & { position?: string, detail?: string }} */ (caught);
  const position = error.position ? ` (at character ${error.position})` : '';
  return `${error.message}${position}${error.detail ? `\n${error.detail}` : ''}`;
}

/**
 * @param {string[]} argv
 * @returns {Promise<number>} the exit code
 */
async function main(argv) {
  const [command = 'deploy', ...args] = argv;
  if (command === 'deploy' && !args.includes('--bundled')) {
    const cli = await prismaCli();
    if (cli) {
      const engine = schemaEngine(cli);
      if (engine.ok) {
        console.log("Prisma's schema engine is available: running prisma migrate deploy.");
        const r = spawnSync(process.execPath, [cli, 'migrate', 'deploy'], { cwd: BACKEND, stdio: 'inherit' });
        return r.status ?? 1;
      }
      console.log(`Prisma's schema engine cannot be had here (${engine.why ?? 'unknown'}).`);
    } else {
      console.log('The prisma CLI is not installed (a production install).');
    }
    console.log('Applying the migrations with the bundled runner instead (scripts/migrate.mjs, same bookkeeping as Prisma).');
  }
  if (!['deploy', 'status', 'resolve'].includes(command)) throw new MigrateError(`Unknown command "${command}".\n${USAGE}`);
  const migrations = localMigrations();
  const { connectionString, schema, where } = connectionSettings();
  console.log(`Datasource: ${where}`);
  console.log(`${migrations.length} migration(s) found in prisma/migrations`);

  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
    await acquireLock(client);
    if (command === 'resolve') return await resolve(client, schema, migrations, args);
    const rows = await appliedMigrations(client, schema, { create: command === 'deploy', baseline: false });

    const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed.length > 0) {
      throw new MigrateError(
        `Migration ${failed.map((r) => r.migration_name).join(', ')} failed earlier and is recorded as unfinished (P3009). ` +
          'Fix the database, then run `node scripts/migrate.mjs resolve --rolled-back <name>` or `--applied <name>`.',
      );
    }
    const applied = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const local = new Set(migrations.map((m) => m.name));
    for (const name of applied.keys()) {
      if (!local.has(name)) console.warn(`Warning: migration ${name} is applied in the database but missing from prisma/migrations`);
    }
    for (const m of migrations) {
      const row = applied.get(m.name);
      if (row && !matchesChecksum(m.script, row.checksum)) {
        console.warn(`Warning: migration ${m.name} was modified after it was applied`);
      }
    }
    const pending = migrations.filter((m) => !applied.has(m.name));

    if (command === 'status') {
      for (const m of migrations) console.log(`  ${applied.has(m.name) ? 'applied' : 'pending'}  ${m.name}`);
      if (pending.length === 0) {
        console.log('Database schema is up to date!');
        return 0;
      }
      console.log(`${pending.length} migration(s) not yet applied. Apply them with: npm run migrate`);
      return 1; // as `prisma migrate status`
    }

    if (pending.length === 0) {
      console.log('No pending migrations to apply.');
      return 0;
    }
    const done = [];
    for (const m of pending) {
      console.log(`Applying migration \`${m.name}\``);
      try {
        await apply(client, m);
      } catch (error) {
        if (done.length && error instanceof MigrateError) error.message += `\nApplied before it: ${done.join(', ')}.`;
        throw error;
      }
      done.push(m.name);
    }
    console.log('\nThe following migration(s) have been applied:\n\nmigrations/');
    for (const m of pending) console.log(`  └─ ${m.name}/\n    └─ migration.sql`);
    console.log('\nAll migrations have been successfully applied.');
    return 0;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK]).catch(() => {});
    await client.end();
  }
}

/**
 * `resolve --applied <name>` / `resolve --rolled-back <name>`, as `prisma migrate resolve`.
 * @param {pg.Client} client
 * @param {string} schema
 * @param {LocalMigration[]} migrations
 * @param {string[]} args
 * @returns {Promise<number>}
 */
async function resolve(client, schema, migrations, args) {
  const [flag, name] = args;
  if ((flag !== '--applied' && flag !== '--rolled-back') || !name) throw new MigrateError(`resolve needs --applied <name> or --rolled-back <name>.\n${USAGE}`);
  const migration = migrations.find((m) => m.name === name);
  if (!migration) throw new MigrateError(`There is no migration ${name} in prisma/migrations.`);
  const rows = (await appliedMigrations(client, schema, { create: true, baseline: true })).filter((r) => r.migration_name === name);
  const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
  if (flag === '--rolled-back') {
    if (failed.length === 0) throw new MigrateError(`Migration ${name} is not recorded as failed: nothing to roll back (P3012).`);
    await run(client, `UPDATE ${TABLE} SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [name]);
    console.log(`Migration ${name} is marked as rolled back: deploy will run it again.`);
    return 0;
  }
  if (rows.some((r) => r.finished_at !== null && r.rolled_back_at === null)) throw new MigrateError(`Migration ${name} is already recorded as applied (P3008).`);
  await run(client, 'BEGIN');
  try {
    await run(client, `UPDATE ${TABLE} SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [name]);
    await run(
      client,
      `INSERT INTO ${TABLE} (id, checksum, started_at, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), now(), $3, 0)`,
      [crypto.randomUUID(), checksum(migration.script), name],
    );
    await run(client, 'COMMIT');
  } catch (error) {
    await run(client, 'ROLLBACK').catch(() => {});
    throw error;
  }
  console.log(`Migration ${name} is marked as applied.`);
  return 0;
}

const USAGE = `Usage:
  node scripts/migrate.mjs [deploy] [--bundled]
  node scripts/migrate.mjs status
  node scripts/migrate.mjs resolve --applied <migration> | --rolled-back <migration>`;

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    // MigrateError and pg's errors (connection refused, password authentication failed...) say enough.
    console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
