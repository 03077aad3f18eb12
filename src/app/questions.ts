import type { Kind, Stack } from './spec.ts';
import { deriveNames } from './names.ts';
import { STACKS, stackIds } from '../stacks/index.ts';
import { UserError } from '../errors.ts';
import type { HostPorts } from '../host/ports.ts';
import { adminUrlProblem } from '../database/admin-url.ts';
import { ULM_DEFAULT_URL, ULM_DEV_URL } from '../workspace/ulm-dev/names.ts';

/** Everything a user can answer. Saved answers are a subset (see `saved`). */
export interface Answers {
  name: string;
  stack: Stack;
  kind: Kind;
  port: number;
  dbPoolSize: number;
  dbMaxOverflow: number;
  dbPoolTimeout: number;
  processes: number;
  /** The app reaches its database through the workspace's PgBouncer (transaction pooling). */
  pgbouncer: boolean;
  ulmUrl: string;
  install: boolean;
  createDb: boolean;
  adminUrl: string | undefined;
  migrate: boolean;
  /** The compose service apps use as their database, when the project has several or it is unclear. */
  dbService?: string | undefined;
}

/** What defaults and validation may look at in the workspace. */
export interface WorkspaceFacts {
  /** Host ports published by compose services, with the service that publishes each. */
  usedPorts: Map<number, string>;
  /** Apps whose port may be reused (the app being replaced with --force). */
  ownService: string | undefined;
  /** Ports some process on this machine listens on (absent: not looked at). */
  hostPorts?: HostPorts;
  /** Prompts are possible: some defaults differ (e.g. install, which is slow, only when asked). */
  interactive: boolean;
  /** The compose project has no ULM service: apps default to the development ULM (workspace/ulm-dev/). */
  noUlmService?: boolean;
}

type Value = string | number | boolean | undefined;

interface QuestionBase<K extends keyof Answers> {
  key: K;
  /** Long flag, e.g. `--db-pool-size`; the positional argument has none. */
  flag: string;
  /** Placeholder shown in --help, e.g. `<n>`. */
  valueName?: string;
  describe: string;
  /** Prompt text; absent: never asked (flag only). */
  message?: string;
  /** Asked only after the user chose to see advanced settings; named so in that question. */
  advanced?: { topic: string };
  /** Written to the app's answers file. Never true for anything that can hold a secret. */
  saved: boolean;
  /** Added after the first release: an answers file without it takes the default. */
  since?: string;
  /** Not meaningful given the other answers: not asked, not validated, not saved. */
  skip?: (a: Partial<Answers>) => boolean;
  /** Must be given when no prompt is possible. */
  required?: boolean;
  /** Validation beyond the type: returns a message saying what to do, or undefined. */
  validate?: (value: Answers[K], a: Partial<Answers>, facts: WorkspaceFacts) => string | undefined;
}

export type Question =
  | (QuestionBase<'name' | 'ulmUrl' | 'adminUrl' | 'dbService'> & { type: 'string'; default?: (a: Partial<Answers>, f: WorkspaceFacts) => string | undefined })
  | (QuestionBase<'stack' | 'kind'> & { type: 'choice'; choices: { value: string; label: string }[]; default: () => string })
  | (QuestionBase<'port' | 'dbPoolSize' | 'dbMaxOverflow' | 'dbPoolTimeout' | 'processes'> & { type: 'int'; min: number; max: number; default: (a: Partial<Answers>, f: WorkspaceFacts) => number })
  | (QuestionBase<'install' | 'createDb' | 'migrate' | 'pgbouncer'> & { type: 'boolean'; default: (a: Partial<Answers>, f: WorkspaceFacts) => boolean });

const isCrud = (a: Partial<Answers>): boolean => a.kind !== 'readonly';

/**
 * Pool defaults: 5 + 5 per process, so an app login's CONNECTION LIMIT is 11 (budget.ts) and a
 * default server (max_connections 100, 3 reserved) holds ULM (counted as 30) and 6 such apps; the
 * ADR's 20 + 10 made it 31 per process, two apps. An async backend rarely needs more than 5.
 */
export const POOL_DEFAULTS = { size: 5, maxOverflow: 5 } as const;

/**
 * Why `port` cannot be the app's host port, or undefined: another compose service publishes it, or
 * a process on this machine listens on it (unless it is the app being replaced, running).
 */
export function portTaken(port: number, f: WorkspaceFacts): { by: 'compose'; owner: string } | { by: 'host'; holder: string | undefined } | undefined {
  const owner = f.usedPorts.get(port);
  if (owner !== undefined && owner !== f.ownService) return { by: 'compose', owner };
  if (owner === undefined && f.hostPorts?.inUse(port)) return { by: 'host', holder: f.hostPorts.holder(port) };
  return undefined;
}

/** First port from 8001 that no compose service publishes and no process listens on. */
export function firstFreePort(f: WorkspaceFacts, from = 8001): number {
  let port = from;
  while (port < 65535 && portTaken(port, f)) port++;
  return port;
}

/**
 * URL characters (RFC 3986) less those that could end or change a string literal, a comment, an
 * .env value or a shell word where the URL is written (quotes, `*`, `$`, `&`, `;`, parentheses):
 * nothing it holds then needs escaping anywhere.
 */
const SAFE_URL = /^https?:\/\/[A-Za-z0-9._~:/?#[\]@!+,=%-]+$/;

function httpUrl(value: string): string | undefined {
  let ok = false;
  try {
    const u = new URL(value);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    // not a URL
  }
  if (!ok) return `${JSON.stringify(value)} is not an http(s) URL: pass something like http://ulm-backend:8000.`;
  if (!SAFE_URL.test(value)) {
    return `${JSON.stringify(value)} has characters create-ovu-app does not write into code (spaces, quotes, * $ & ; ( ) \\ or control characters): percent-encode them, e.g. http://ulm-backend:8000.`;
  }
  return undefined;
}

/**
 * The one list of questions. The prompts, the flags, --help, validation and the answers file are
 * all generated from it, so they cannot disagree. Order is prompt order.
 */
export const QUESTIONS: Question[] = [
  {
    key: 'name',
    type: 'string',
    flag: '<app-name>',
    describe: 'app name, e.g. inventory (becomes inventory_db, inventory_user, inventory-backend)',
    message: 'App name',
    required: true,
    saved: true,
    validate: (value) => {
      try {
        deriveNames(value ?? '');
        return undefined;
      } catch (err) {
        if (err instanceof UserError) return err.message;
        throw err;
      }
    },
  },
  {
    key: 'stack',
    type: 'choice',
    flag: '--stack',
    // Read when asked, so a stack added to the table (a test's) is offered too.
    get valueName() {
      return stackIds().join('|');
    },
    describe: 'backend stack',
    message: 'Backend stack',
    saved: true,
    get choices() {
      return Object.values(STACKS).map((s) => ({ value: s.id, label: s.label }));
    },
    default: () => stackIds()[0]!,
  },
  {
    key: 'kind',
    type: 'choice',
    flag: '--kind',
    valueName: 'crud|readonly',
    describe: 'crud: own database + migrations; readonly: ULM client only, no database',
    message: 'Kind of app',
    saved: true,
    choices: [
      { value: 'crud', label: 'crud: its own database, migrations and the ULM client' },
      { value: 'readonly', label: 'readonly: reads users through ULM only, no database' },
    ],
    default: () => 'crud',
  },
  {
    key: 'port',
    type: 'int',
    flag: '--port',
    valueName: '<n>',
    describe: 'host port of the backend (default: the first from 8001 that neither the compose file nor a running process uses)',
    message: 'Host port for the backend',
    saved: true,
    min: 1,
    max: 65535,
    default: (_a, f) => firstFreePort(f),
    validate: (value, _a, f) => {
      const taken = portTaken(value, f);
      if (!taken) return undefined;
      if (taken.by === 'compose') return `Port ${value} is already published by the compose service "${taken.owner}": pass another --port.`;
      return `Port ${value} is in use on this machine${taken.holder ? ` by ${taken.holder}` : ''}: pass another --port, e.g. ${firstFreePort(f, 8001)}.`;
    },
  },
  {
    key: 'dbPoolSize',
    type: 'int',
    flag: '--db-pool-size',
    valueName: '<n>',
    describe: 'SQLAlchemy/pg pool size per process (default 5; the ADR said 20)',
    message: 'DB pool size',
    advanced: { topic: 'DB pool' },
    saved: true,
    skip: (a) => !isCrud(a),
    min: 1,
    max: 1000,
    default: () => POOL_DEFAULTS.size,
  },
  {
    key: 'dbMaxOverflow',
    type: 'int',
    flag: '--db-max-overflow',
    valueName: '<n>',
    describe: 'connections allowed above the pool size (default 5; the ADR said 10)',
    message: 'DB max overflow',
    advanced: { topic: 'DB pool' },
    saved: true,
    skip: (a) => !isCrud(a),
    min: 0,
    max: 1000,
    default: () => POOL_DEFAULTS.maxOverflow,
  },
  {
    key: 'dbPoolTimeout',
    type: 'int',
    flag: '--db-pool-timeout',
    valueName: '<s>',
    describe: 'seconds to wait for a pooled connection (ADR default 30)',
    message: 'DB pool timeout (seconds)',
    advanced: { topic: 'DB pool' },
    saved: true,
    skip: (a) => !isCrud(a),
    min: 1,
    max: 3600,
    default: () => 30,
  },
  {
    key: 'processes',
    type: 'int',
    flag: '--processes',
    valueName: '<n>',
    describe: "backend processes (workers x replicas) running at once; the login's CONNECTION LIMIT is (pool size + overflow) x this + 1",
    message: 'Backend processes running at once (workers x replicas)',
    advanced: { topic: 'DB pool' },
    saved: true,
    since: '0.2.0',
    skip: (a) => !isCrud(a),
    min: 1,
    max: 256,
    default: () => 1,
  },
  {
    key: 'pgbouncer',
    type: 'boolean',
    flag: '--pgbouncer',
    describe: "reach the database through the workspace's PgBouncer (transaction pooling): the server holds (pool size + overflow) connections for the app however many processes run",
    message: "Reach the database through PgBouncer (transaction pooling)?",
    advanced: { topic: 'DB pool' },
    saved: true,
    since: '0.3.0',
    skip: (a) => !isCrud(a),
    default: () => false,
  },
  {
    key: 'ulmUrl',
    type: 'string',
    flag: '--ulm-url',
    valueName: '<url>',
    describe: 'ULM base URL as seen from the app container',
    message: 'ULM base URL (from inside the container)',
    advanced: { topic: 'ULM URL' },
    saved: true,
    default: (_a, f) => (f.noUlmService ? ULM_DEV_URL : ULM_DEFAULT_URL),
    validate: (value) => httpUrl(value ?? ''),
  },
  {
    key: 'dbService',
    type: 'string',
    flag: '--db-service',
    valueName: '<name>',
    describe: 'the compose service apps use as their PostgreSQL, when there are several or it is not recognisable',
    // A fact about the workspace, not the app: never asked, never saved.
    saved: false,
    skip: (a) => !isCrud(a),
  },
  {
    key: 'install',
    type: 'boolean',
    flag: '--install',
    describe: "install the app's dependencies (Python: uv sync into .venv, leaving uv.lock; TypeScript: the package manager)",
    message: "Install the app's dependencies now?",
    saved: false,
    default: (_a, f) => f.interactive,
  },
  {
    key: 'createDb',
    type: 'boolean',
    flag: '--create-db',
    describe: 'create the database and login on a local PostgreSQL now',
    message: 'Create the database and login on your local PostgreSQL now?',
    saved: false,
    skip: (a) => !isCrud(a),
    default: () => false,
  },
  {
    key: 'adminUrl',
    type: 'string',
    flag: '--admin-url',
    valueName: '<url>',
    describe: 'admin connection for --create-db (default: PG* env vars, else postgres:postgres@localhost:5432, named before it is used; --yes closes other databases only on a server you name)',
    // Never saved. Asked after --create-db's question (which names the server it would use) so the
    // person can name another; Enter keeps that one.
    message: 'Admin URL of another server',
    saved: false,
    skip: (a) => !a.createDb,
    validate: (value) => adminUrlProblem(value ?? ''),
  },
  {
    key: 'migrate',
    type: 'boolean',
    flag: '--migrate',
    describe: 'run the first migration after --create-db (needs --install: it runs the app\'s own tool)',
    message: 'Run the first migration now?',
    saved: false,
    // The migration runs the app's own tool, which only an install puts in place.
    skip: (a) => !a.createDb || !a.install,
    // Asked interactively with yes as the default; with flags it runs only when --migrate is given.
    default: (_a, f) => f.interactive,
  },
];

/** Parses a flag's text into the question's type, or says what to pass instead. */
export function parseValue(q: Question, raw: string | boolean): { value?: Value; error?: string } {
  switch (q.type) {
    case 'boolean':
      return { value: raw === true || raw === 'true' };
    case 'int': {
      const text = String(raw).trim();
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < q.min || n > q.max) {
        return { error: `${q.flag} must be a whole number from ${q.min} to ${q.max} (got "${String(raw)}").` };
      }
      return { value: n };
    }
    case 'choice': {
      const value = String(raw).trim().toLowerCase();
      if (!q.choices.some((c) => c.value === value)) {
        return { error: `${q.flag} must be one of ${q.choices.map((c) => c.value).join(', ')} (got "${String(raw)}").` };
      }
      return { value };
    }
    case 'string':
      return { value: String(raw) };
  }
}

/** Checks one answer against its question. */
export function validateAnswer(q: Question, value: unknown, a: Partial<Answers>, f: WorkspaceFacts): string | undefined {
  if (q.type === 'int' && (typeof value !== 'number' || !Number.isInteger(value) || value < q.min || value > q.max)) {
    return `${q.flag} must be a whole number from ${q.min} to ${q.max}.`;
  }
  if (q.type === 'choice' && !q.choices.some((c) => c.value === value)) {
    return `${q.flag} must be one of ${q.choices.map((c) => c.value).join(', ')}.`;
  }
  const check = q.validate as ((v: unknown, a: Partial<Answers>, f: WorkspaceFacts) => string | undefined) | undefined;
  return check?.(value, a, f);
}

/** Default for a question given the answers so far. */
export function defaultFor(q: Question, a: Partial<Answers>, f: WorkspaceFacts): Value {
  return q.default?.(a, f);
}

/** The answers file's content: only saved, applicable answers (never a secret). */
export function savedAnswers(a: Answers): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const q of QUESTIONS) {
    if (q.saved && !q.skip?.(a)) out[q.key] = a[q.key];
  }
  return out;
}
