/**
 * The command registry: every command the CLI knows, its usage line, what it does, the question
 * flags and run options it takes and its examples. Flag parsing and --help (cli/args.ts), the
 * dispatch (cli/run/index.ts), the JSON result's `command` (schema/result-v1.schema.json, held to
 * this list by test/unit/cli/registry.test.ts), the names an app cannot have (app/names.ts) and the
 * confirmations (commands/io.ts's Confirmations) all read it. A new command is one entry here,
 * its code in src/commands/, its runner in src/cli/run/.
 */
import type { Answers } from '../app/questions.ts';

export const COMMANDS = ['new', 'provision', 'list', 'doctor', 'update', 'remove', 'backup', 'restore'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CommandDef {
  /** After `create-ovu-app`: e.g. `provision <app-name> [options]`. */
  usage: string;
  /** One line for the command list of the main help. */
  summary: string;
  /** The paragraph under the usage line of its own help. */
  about: string[];
  /** Positional arguments: their names in order (the first is the app name when there is one). */
  positionals: string[];
  /** Run options it takes beyond the ones every command takes (cli/args.ts's RUN_OPTIONS). */
  options: readonly string[];
  /** Question flags it takes: every one (`all`), or some with what each means here. */
  questions: 'all' | Partial<Record<keyof Answers, string>>;
  /** Examples, without the runner (`<runner> ` is put in front). */
  examples: string[];
}

const ADMIN_URL = "admin connection to the server (default: PG* env vars, else the server the app was provisioned on)";

export const COMMAND_DEFS: Record<Command, CommandDef> = {
  new: {
    options: ['yes', 'dry-run', 'force', 'package-manager'],
    usage: '[new] <app-name> [options]',
    summary: 'scaffold an app (the default; these options)',
    about: [
      'Scaffold an OVU app following ADR-002: its own database <app>_db and login <app>_user,',
      'user data only through the ULM API, its own migrations.',
    ],
    positionals: ['app-name'],
    questions: 'all',
    examples: ['inventory --yes', 'inventory --kind readonly --port 8010 --dry-run', 'inventory --yes --install --create-db --migrate'],
  },
  provision: {
    options: ['yes', 'dry-run', 'reset-password', 'revoke-memberships', 'package-manager'],
    usage: 'provision <app-name> [options]',
    summary: "create an existing app's database and login now",
    about: [
      "Create an existing app's database <app>_db and login <app>_user on a PostgreSQL server, harden",
      "the server's PUBLIC access, verify it, and with --migrate run the app's first migration.",
      "The app's settings and password come from the workspace (<app>/.ovu-app.json and <app>/.env).",
    ],
    positionals: ['app-name'],
    questions: { adminUrl: ADMIN_URL, migrate: "then run the app's first migration (its dependencies must be installed)" },
    examples: ['provision inventory --migrate', 'provision inventory --admin-url postgresql://postgres:postgres@localhost:5432/postgres'],
  },
  update: {
    options: ['yes', 'dry-run', 'base'],
    usage: 'update <app-name> [options]',
    summary: "bring an app to this version's templates, keeping the team's changes",
    about: [
      "Bring an app to this version's templates as Copier's update does: a three-way merge, file by",
      'file, of what the version recorded in <app>/.ovu-app.json wrote (rendered again by that version,',
      "from --base or the npm registry), the team's files now, and what this version writes for the",
      "answers (changed by the flags given). Both sides' changes are kept; where they touch the same",
      'lines, both are written between <<<<<<< yours / >>>>>>> create-ovu-app <version> markers, the',
      'files are listed and it exits 1. A file you deleted stays deleted; a file the templates dropped',
      "goes only if you had not changed it. Also merges the app's init-db.sql block and rewrites",
      'apps.compose.yaml. Commit your work first: the merge is easiest to review in git.',
    ],
    positionals: ['app-name'],
    questions: {
      port: 'change the host port of the backend',
      dbPoolSize: 'change the pool size per process',
      dbMaxOverflow: 'change the connections allowed above the pool size',
      dbPoolTimeout: 'change the seconds to wait for a pooled connection',
      processes: 'change the backend processes running at once',
      ulmUrl: 'change the ULM base URL as seen from the app container',
      stack: 'refused unless the same: an app keeps its stack',
      kind: 'refused unless the same: an app keeps its kind',
      dbService: 'the compose service apps use as their PostgreSQL, when there are several or it is not recognisable',
    },
    examples: ['update inventory --dry-run', 'update inventory', 'update inventory --port 8020', 'update inventory --base ./create-ovu-app-0.1.0.tgz'],
  },
  remove: {
    options: ['yes', 'dry-run', 'keep-db'],
    usage: 'remove <app-name> [options]',
    summary: 'take an app out of the workspace, and its database off the server after a dump',
    about: [
      "Take an app out of the workspace: its compose service, its init-db.sql block, its .env lines, and",
      'its directory, which is moved aside into .create-ovu-app/removed/<app>-<time>/. Unless --keep-db, its',
      'database is first dumped (pg_dump -Fc) to backups/<app>/, then dropped with its login. Without a',
      'terminal it needs --yes; interactively it shows everything it will do and asks.',
    ],
    positionals: ['app-name'],
    questions: { adminUrl: ADMIN_URL },
    examples: ['remove inventory --dry-run', 'remove inventory --yes', 'remove inventory --keep-db --yes'],
  },
  backup: {
    options: ['keep'],
    usage: 'backup <app-name> [options]',
    summary: "dump an app's database to backups/<app>/ (pg_dump -Fc)",
    about: [
      "Dump an app's database with pg_dump -Fc to backups/<app>/<app>_db-<UTC time>.dump in the workspace",
      '(ignored by git). pg_dump must be of the server\'s major or newer (OVU_PG_BIN names another one).',
      'For a nightly schedule see the README (a cron line, or the ovu-backup compose service).',
    ],
    positionals: ['app-name'],
    questions: { adminUrl: ADMIN_URL },
    examples: ['backup inventory', 'backup inventory --keep 7 --json'],
  },
  restore: {
    options: ['yes', 'dry-run', 'from-db'],
    usage: 'restore <app-name> <file> [options]',
    summary: "bring a dump back into an app's database",
    about: [
      "Restore a dump (from backup or remove) into the app's existing database, logged in as the app's",
      "own login (password from <app>/.env), never as the admin: the dump's tables replace those of the",
      'same name, in one transaction; the database keeps its owner and PUBLIC stays revoked. A dump of',
      'another database is refused unless --from-db names it. Without a terminal it needs --yes.',
    ],
    positionals: ['app-name', 'file'],
    questions: { adminUrl: ADMIN_URL },
    examples: ['restore inventory backups/inventory/inventory_db-20261202T030000Z.dump --dry-run', 'restore inventory backups/inventory/inventory_db-20261202T030000Z.dump --yes'],
  },
  list: {
    options: [],
    usage: 'list [options]',
    summary: "the workspace's apps: stack, kind, service, port, database and login",
    about: ["List the workspace's apps from their answers files (<app>/.ovu-app.json): stack, kind, compose", 'service, host port, database and login (crud apps), and the create-ovu-app version that wrote each.'],
    positionals: [],
    questions: {},
    examples: ['list', 'list --json --workspace ../platform'],
  },
  doctor: {
    options: ['yes', 'dry-run', 'fix'],
    usage: 'doctor [options]',
    summary: 'audit the workspace and the server against ADR-002; --fix repairs the safe things',
    about: [
      'Audit the workspace against ADR-002 and against what create-ovu-app wrote: each app\'s compose service,',
      'init-db.sql block, password (<app>/.env), placeholder, verifier and backend/.env agreeing; secrets out of git',
      'and mode 600; the compose files against the Compose Specification. On the server, when it can reach one:',
      "each app's database and owner, its login (with its own password) refused by every other database, no",
      'dangerous attributes, connection limits within max_connections, PUBLIC closed, migrations at head.',
      'One line per check; exit 0 only when every check holds (a check that could not run does not).',
      '--fix applies the safe fixes it names (chmod 600, .gitignore, moving a password into <app>/.env, a',
      "missing placeholder or verifier, REVOKE of PUBLIC's access), shown first as a plan.",
    ],
    positionals: [],
    questions: { adminUrl: ADMIN_URL },
    examples: ['doctor', 'doctor --json', 'doctor --fix --dry-run', 'doctor --fix --yes --admin-url postgresql://postgres:postgres@localhost:5432/postgres'],
  },
};

/** The admin URL's help text, for the commands that reach a server. */
export const ADMIN_URL_HELP = ADMIN_URL;

/** Words that are not commands yet mean one to a reader (`help`, `version`), or are kept for one to come (`deploy`). */
export const RESERVED_WORDS = ['help', 'version', 'deploy'] as const;

export const isCommand = (word: string | undefined): word is Command => (COMMANDS as readonly string[]).includes(word ?? '');
