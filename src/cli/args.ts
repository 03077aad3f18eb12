import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';
import { QUESTIONS, parseValue, type Answers } from '../app/questions.ts';
import { PACKAGE_MANAGERS, type PackageManagerName } from '../stacks/package-managers.ts';

/** Options that steer a run rather than answer a question. */
interface RunOption {
  name: string;
  short?: string;
  valueName?: string;
  /** One text, or one per command when it means something different there. */
  describe: string | Record<Command, string>;
  /** Commands that accept it. */
  commands: Command[];
  /** The values it takes, when it is a choice. */
  choices?: readonly string[];
}

export type Command = 'new' | 'provision';

const RUN_OPTIONS: RunOption[] = [
  { name: 'workspace', valueName: '<dir>', describe: 'platform root with docker-compose.yml and init-db.sql (default: nearest ancestor with a compose file, else .)', commands: ['new', 'provision'] },
  {
    name: 'yes',
    short: 'y',
    describe: { new: 'take defaults for everything not given; never prompt', provision: 'run without showing the SQL first and asking' },
    commands: ['new', 'provision'],
  },
  {
    name: 'dry-run',
    describe: {
      new: 'print every file the run would create or change, with diffs; write nothing',
      provision: 'print the SQL it would run (password hidden), every server-wide change and who would lose access; change nothing',
    },
    commands: ['new', 'provision'],
  },
  { name: 'force', describe: 'replace an existing app of the same name (its directory, service and init-db block)', commands: ['new'] },
  { name: 'reset-password', describe: "set the existing login's password to the one in .env", commands: ['provision'] },
  {
    name: 'package-manager',
    valueName: PACKAGE_MANAGERS.join('|'),
    choices: PACKAGE_MANAGERS,
    describe: 'install TypeScript apps with it and name it in the commands printed (default: the one that ran this, else npm)',
    commands: ['new', 'provision'],
  },
  { name: 'json', describe: 'print one JSON object with the result on stdout (schema/result-v1.schema.json)', commands: ['new', 'provision'] },
  { name: 'verbose', describe: "show the tools' output as they run (otherwise only when one fails)", commands: ['new', 'provision'] },
  { name: 'help', short: 'h', describe: 'show this help', commands: ['new', 'provision'] },
  { name: 'version', short: 'v', describe: 'print the version', commands: ['new', 'provision'] },
];

/** Question flags the provision command also takes, with what each means there. */
const PROVISION_QUESTIONS: Partial<Record<keyof Answers, string>> = {
  adminUrl: 'admin connection to the server (default: PG* env vars, else postgres:postgres@localhost:5432)',
  migrate: "then run the app's first migration (its dependencies must be installed)",
};

export interface ParsedArgs {
  command: Command;
  /** Answers given as flags or the positional name, already typed and parsed. */
  given: Partial<Answers>;
  workspace: string | undefined;
  yes: boolean;
  dryRun: boolean;
  force: boolean;
  resetPassword: boolean;
  json: boolean;
  verbose: boolean;
  /** --package-manager; when absent the CLI detects the one that ran it. */
  packageManager: PackageManagerName | undefined;
  help: boolean;
  version: boolean;
}

export interface ParseOptions {
  /** How the user runs us, for the hint after a bad flag (e.g. `npx create-ovu-app`). */
  runner?: string;
}

const flagName = (flag: string): string => flag.replace(/^--/, '');

function questionsFor(command: Command) {
  return QUESTIONS.filter((q) => q.flag.startsWith('--') && (command === 'new' || q.key in PROVISION_QUESTIONS)).map((q) => ({
    ...q,
    describe: command === 'provision' ? PROVISION_QUESTIONS[q.key]! : q.describe,
  }));
}

export function parseCliArgs(argv: string[], opts: ParseOptions = {}): ParsedArgs {
  // `create-ovu-app help [command]` and `create-ovu-app version` are the flags in words.
  if (argv[0] === 'help') return parseCliArgs([...(argv[1] === 'provision' ? ['provision'] : []), '--help'], opts);
  if (argv[0] === 'version') return parseCliArgs(['--version'], opts);
  const runner = opts.runner ?? 'create-ovu-app';
  const command: Command = argv[0] === 'provision' ? 'provision' : 'new';
  const rest = argv[0] === 'provision' || argv[0] === 'new' ? argv.slice(1) : argv;

  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const q of questionsFor(command)) {
    options[flagName(q.flag)] = { type: q.type === 'boolean' ? 'boolean' : 'string' };
  }
  for (const o of RUN_OPTIONS.filter((o) => o.commands.includes(command))) {
    options[o.name] = { type: o.valueName ? 'string' : 'boolean', ...(o.short ? { short: o.short } : {}) };
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's messages are long and mention parseArgs internals; keep the useful part.
    const msg = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`${msg}. Run \`${runner}${command === 'provision' ? ' provision' : ''} --help\` for the options.`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const flag = (name: string): boolean => v[name] === true;

  const given: Partial<Answers> = {};
  if (parsed.positionals.length > 1) {
    throw new UsageError(`Expected one app name, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}. Quote a name with spaces.`);
  }
  if (parsed.positionals[0] !== undefined) given.name = parsed.positionals[0];
  for (const q of questionsFor(command)) {
    const raw = v[flagName(q.flag)];
    if (raw === undefined) continue;
    const { value, error } = parseValue(q, raw);
    if (error) throw new UsageError(error);
    (given as Record<string, unknown>)[q.key] = value;
  }

  const pm = v['package-manager'];
  if (typeof pm === 'string' && !(PACKAGE_MANAGERS as readonly string[]).includes(pm)) {
    throw new UsageError(`--package-manager must be one of ${PACKAGE_MANAGERS.join(', ')} (got "${pm}").`);
  }

  return {
    command,
    given,
    workspace: typeof v.workspace === 'string' ? v.workspace : undefined,
    yes: flag('yes'),
    dryRun: flag('dry-run'),
    force: flag('force'),
    resetPassword: flag('reset-password'),
    json: flag('json'),
    verbose: flag('verbose'),
    packageManager: typeof pm === 'string' ? (pm as PackageManagerName) : undefined,
    help: flag('help'),
    version: flag('version'),
  };
}

function row(left: string, right: string): string {
  return `  ${left.length < 34 ? left.padEnd(34) : `${left}  `}${right}`;
}

/** --help for one command, generated from the same schema the prompts and validation use. */
export function helpText(command: Command, runner = 'npx create-ovu-app'): string {
  const lines: string[] = [];
  if (command === 'provision') {
    lines.push(
      'Usage: create-ovu-app provision <app-name> [options]',
      '',
      "Create an existing app's database <app>_db and login <app>_user on a PostgreSQL server, harden",
      "the server's PUBLIC access, verify it, and with --migrate run the app's first migration.",
      "The app's settings and password come from the workspace (<app>/.ovu-app.json and .env).",
      '',
      'Options:',
    );
  } else {
    lines.push(
      'Usage: create-ovu-app [new] <app-name> [options]',
      '',
      'Scaffold an OVU app following ADR-002: its own database <app>_db and login <app>_user,',
      'user data only through the ULM API, its own migrations.',
      '',
      'Commands:',
      row('new', 'scaffold an app (the default; these options)'),
      row('provision', `create an existing app's database and login now (\`${runner} provision --help\`)`),
      '',
      'Options:',
    );
  }
  for (const q of questionsFor(command)) {
    lines.push(row(`${q.flag}${q.valueName ? ' ' + q.valueName : ''}`, q.describe));
  }
  for (const o of RUN_OPTIONS.filter((o) => o.commands.includes(command))) {
    const names = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.valueName ? ' ' + o.valueName : ''}`;
    lines.push(row(names, typeof o.describe === 'string' ? o.describe : o.describe[command]));
  }
  lines.push('', 'Exit codes: 0 done, 1 failure, 2 bad usage or invalid answer, 130 cancelled.');
  if (command === 'new') lines.push('Without a TTY (or with CI=true) it never prompts: pass the app name and any flags.');
  lines.push(
    '',
    'Examples:',
    ...(command === 'new'
      ? [
          `  ${runner} inventory --yes`,
          `  ${runner} inventory --kind readonly --port 8010 --dry-run`,
          `  ${runner} inventory --yes --install --create-db --migrate`,
        ]
      : [
          `  ${runner} provision inventory --migrate`,
          `  ${runner} provision inventory --admin-url postgresql://postgres:postgres@localhost:5432/postgres`,
        ]),
  );
  return lines.join('\n');
}
