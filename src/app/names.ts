import { UsageError } from '../errors.ts';
import { MAX_IDENTIFIER_BYTES } from '../database/identifiers.ts';
import type { AppNames } from './spec.ts';
import { COMMANDS, RESERVED_WORDS } from '../commands/registry.ts';

/**
 * PostgreSQL 15's reserved key words (Appendix C, "reserved" and "reserved (can be function or
 * type)"). A derived identifier like `user_db` is legal, but an app called `user` or `select`
 * invites quoting bugs in every hand-written query the team will ever add, so refuse them.
 */
const PG_RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric authorization binary both case cast check
  collate collation column concurrently constraint create cross current_catalog current_date
  current_role current_schema current_time current_timestamp current_user default deferrable desc
  distinct do else end except false fetch for foreign freeze from full grant group having ilike in
  initially inner intersect into is isnull join lateral leading left like limit localtime
  localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
  references returning right select session_user similar some symmetric system_user table
  tablesample then to trailing true union unique user using variadic verbose when where window
  with`.split(/\s+/),
);

/** Names the platform itself owns: an app called `ulm` would get ULM's own database and login. */
const PLATFORM_NAMES = new Set(['ulm', 'postgres', 'template0', 'template1', 'public']);
const WORKSPACE_DIRS = new Set(['monitoring', 'pgbouncer']);

/** create-ovu-app's own command words: `create-ovu-app help` asks for help, it does not name an app. */
export const COMMAND_WORDS: ReadonlySet<string> = new Set([...COMMANDS, ...RESERVED_WORDS]);

/** Splits what the user typed into lower-case ASCII words: "InventoryService 2" → [inventory, service, 2]. */
function words(input: string): string[] {
  return input
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // drop accents so "Café" becomes "cafe" rather than "caf"
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Derives every name from the app name, or explains in one line why it can't be used.
 * The result only ever contains [a-z0-9_-], so nothing derived from user input can need quoting
 * in SQL or YAML; the SQL and YAML writers still escape everything as if it could.
 */
export function deriveNames(input: string): AppNames {
  const raw = input.trim();
  if (!raw) throw new UsageError('The app name is empty: pass a name such as `inventory`.');
  const parts = words(raw);
  if (parts.length === 0) {
    throw new UsageError(`${JSON.stringify(raw)} has no letters or digits to build a name from: use a name such as \`inventory\`.`);
  }
  const slug = parts.join('-');
  const snake = parts.join('_');
  if (COMMAND_WORDS.has(slug)) {
    throw new UsageError(`"${slug}" is a create-ovu-app command word, not an app name: choose another name, e.g. \`${slug}-service\`.`);
  }
  if (/^[0-9]/.test(slug)) {
    throw new UsageError(`${JSON.stringify(raw)} starts with a digit, which PostgreSQL and Python can't use unquoted: start it with a letter, e.g. \`app-${slug}\`.`);
  }
  if (PG_RESERVED.has(snake)) {
    throw new UsageError(`"${snake}" is a PostgreSQL reserved word: choose another name, e.g. \`${snake}-service\`.`);
  }
  if (PLATFORM_NAMES.has(snake)) {
    throw new UsageError(`"${snake}" belongs to the platform itself (its database and login exist already): choose another name.`);
  }
  // Directories create-ovu-app writes in the workspace for itself (workspace/monitoring/, workspace/pgbouncer/).
  if (WORKSPACE_DIRS.has(slug)) {
    throw new UsageError(`"${slug}" is a directory create-ovu-app writes in the workspace for itself: choose another name, e.g. \`${slug}-service\`.`);
  }
  if (snake.startsWith('pg_')) {
    throw new UsageError(`"${snake}" starts with "pg_", which PostgreSQL reserves for its own roles: choose another name.`);
  }
  const envPrefix = snake.toUpperCase();
  const names: AppNames = {
    slug,
    snake,
    title: parts.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' '),
    db: `${snake}_db`,
    user: `${snake}_user`,
    envPrefix,
    passwordVar: `${envPrefix}_DB_PASSWORD`,
    verifierVar: `${envPrefix}_DB_VERIFIER`,
    service: `${slug}-backend`,
  };
  const longest = [names.db, names.user].reduce((a, b) => (b.length > a.length ? b : a));
  if (Buffer.byteLength(longest) > MAX_IDENTIFIER_BYTES) {
    const room = MAX_IDENTIFIER_BYTES - '_user'.length;
    throw new UsageError(
      `${JSON.stringify(raw)} is too long: the login "${longest}" would exceed PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte limit; use at most ${room} characters.`,
    );
  }
  return names;
}

/**
 * The environment variables an app's init-db.sql block reads (psql `\getenv`): the one-shot
 * `ovu-db-init` compose service that runs init-db.sql must be given exactly these, from .env.
 * Only the SCRAM-SHA-256 verifier: the password itself never reaches psql or the server.
 */
export function initDbEnvVars(names: Pick<AppNames, 'verifierVar'>): string[] {
  return [names.verifierVar];
}
