#!/usr/bin/env node
/**
 * Applies prisma/migrations the way `prisma migrate deploy` does, without Prisma's schema
 * engine (a native binary Prisma downloads on first use; see README.md, "Migrations").
 *
 *   node scripts/migrate.mjs          apply pending migrations   (npm run migrate:offline)
 *   node scripts/migrate.mjs status   list applied and pending   (npm run migrate:status)
 *
 * DATABASE_URL comes from the environment, then backend/.env. `?schema=` is honoured as Prisma
 * does (default "public").
 *
 * Bookkeeping is Prisma's own, so `prisma migrate deploy` / `migrate status` later see these
 * migrations as applied:
 * - table `_prisma_migrations`, created with Prisma's DDL when missing (on an empty schema only:
 *   like Prisma, a non-empty schema without that table is refused, see `prisma migrate resolve`);
 * - migrations are the folders of prisma/migrations holding a migration.sql, applied in name
 *   order, each recorded with a random UUID `id`, `checksum` = sha256 (hex) of migration.sql,
 *   `migration_name` = folder name, `started_at`, `finished_at`, `applied_steps_count` = 1;
 * - Prisma's advisory lock (72707369) is held meanwhile, so it never runs beside Prisma Migrate.
 *
 * One difference: each migration and its record are committed in one transaction, so a failing
 * migration leaves nothing behind (Prisma would leave a failed record to resolve). Scripts that
 * cannot run inside a transaction (CREATE INDEX CONCURRENTLY, their own BEGIN/COMMIT) need the
 * real `prisma migrate deploy`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const BACKEND = fileURLToPath(new URL('..', import.meta.url));
const MIGRATIONS_DIR = path.join(BACKEND, 'prisma', 'migrations');
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
 * @param {Readonly<{ create: boolean }>} options
 * @returns {Promise<MigrationRow[]>}
 */
async function appliedMigrations(client, schema, { create }) {
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
    if (tables.length > 0) {
      throw new MigrateError(
        `The database schema "${schema}" is not empty (${tables.map((t) => t.relname).join(', ')}) and has no ${TABLE} table. ` +
          'Like Prisma (P3005), this will not guess what is applied: baseline it with `prisma migrate resolve --applied <migration>`.',
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
 * @param {string} command
 * @returns {Promise<number>} the exit code
 */
async function main(command) {
  if (!['deploy', 'status'].includes(command)) {
    throw new MigrateError(`Unknown command "${command}". Usage: node scripts/migrate.mjs [deploy|status]`);
  }
  const migrations = localMigrations();
  const { connectionString, schema, where } = connectionSettings();
  console.log(`Datasource: ${where}`);
  console.log(`${migrations.length} migration(s) found in prisma/migrations`);

  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
    await acquireLock(client);
    const rows = await appliedMigrations(client, schema, { create: command === 'deploy' });

    const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed.length > 0) {
      throw new MigrateError(
        `Migration ${failed.map((r) => r.migration_name).join(', ')} failed earlier and is recorded as unfinished (P3009). ` +
          'Fix the database, then run `prisma migrate resolve --rolled-back <name>` or `--applied <name>`.',
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
      console.log(`${pending.length} migration(s) not yet applied. Apply them with: npm run migrate:offline (or npm run migrate)`);
      return 1; // as `prisma migrate status`
    }

    if (pending.length === 0) {
      console.log('No pending migrations to apply.');
      return 0;
    }
    const done = [];
    for (const m of pending) {
      console.log(`Applying migration \`${m.name}\``);
      const id = crypto.randomUUID();
      await client.query('BEGIN');
      try {
        await client.query(
          `INSERT INTO ${TABLE} (id, checksum, started_at, migration_name) VALUES ($1, $2, $3, $4)`,
          [id, checksum(m.script), new Date(), m.name],
        );
        if (m.script.trim()) await client.query(m.script); // simple protocol: the whole script at once
        await client.query(`UPDATE ${TABLE} SET applied_steps_count = applied_steps_count + 1 WHERE id = $1`, [id]);
        await client.query(`UPDATE ${TABLE} SET finished_at = $2 WHERE id = $1`, [id, new Date()]);
        await client.query('COMMIT');
      } catch (caught) {
        await client.query('ROLLBACK').catch(() => {});
        const error = /** @type {Error & { position?: string, detail?: string }} */ (caught);
        const position = error.position ? ` (at character ${error.position} of migration.sql)` : '';
        const before = done.length ? `\nApplied before it: ${done.join(', ')}.` : '';
        throw new MigrateError(
          `Migration ${m.name} failed and was rolled back, nothing of it is applied:\n${error.message}${position}` +
            (error.detail ? `\n${error.detail}` : '') +
            before,
        );
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

try {
  process.exitCode = await main(process.argv[2] ?? 'deploy');
} catch (error) {
  // MigrateError and pg's errors (connection refused, password authentication failed...) say enough.
  console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
