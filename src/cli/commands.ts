/**
 * Every command the CLI knows, as text: its usage line, what it does, the question flags it takes
 * and its examples. --help, flag parsing and the dispatch in main.ts all read this table; a new
 * command is one entry here, its options in args.ts's RUN_OPTIONS and its runner in ./run/.
 */
import type { Answers } from '../app/questions.ts';

export const COMMANDS = ['new', 'provision', 'list', 'doctor'] as const;
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
  /** Question flags it takes: every one (`all`), or some with what each means here. */
  questions: 'all' | Partial<Record<keyof Answers, string>>;
  /** Examples, without the runner (`<runner> ` is put in front). */
  examples: string[];
}

const ADMIN_URL = 'admin connection to the server (default: PG* env vars, else postgres:postgres@localhost:5432)';

export const COMMAND_DEFS: Record<Command, CommandDef> = {
  new: {
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
  list: {
    usage: 'list [options]',
    summary: "the workspace's apps: stack, kind, service, port, database and login",
    about: ["List the workspace's apps from their answers files (<app>/.ovu-app.json): stack, kind, compose", 'service, host port, database and login (crud apps), and the create-ovu-app version that wrote each.'],
    positionals: [],
    questions: {},
    examples: ['list', 'list --json --workspace ../platform'],
  },
  doctor: {
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

export const isCommand = (word: string | undefined): word is Command => (COMMANDS as readonly string[]).includes(word ?? '');
