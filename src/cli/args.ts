import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';
import { QUESTIONS, parseValue, type Answers } from '../app/questions.ts';

/** Options that steer a run rather than answer a question. */
interface RunOption {
  name: string;
  short?: string;
  valueName?: string;
  /** One text, or one per command when it means something different there. */
  describe: string | Record<Command, string>;
  /** Commands that accept it. */
  commands: Command[];
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
  { name: 'json', describe: 'print one JSON object with the result on stdout', commands: ['new', 'provision'] },
  { name: 'help', short: 'h', describe: 'show this help', commands: ['new', 'provision'] },
  { name: 'version', short: 'v', describe: 'print the version', commands: ['new', 'provision'] },
];

/** Question flags the provision command also takes. */
const PROVISION_QUESTIONS: (keyof Answers)[] = ['adminUrl', 'migrate'];

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
  help: boolean;
  version: boolean;
}

const flagName = (flag: string): string => flag.replace(/^--/, '');

function questionsFor(command: Command) {
  return QUESTIONS.filter((q) => q.flag.startsWith('--') && (command === 'new' || PROVISION_QUESTIONS.includes(q.key)));
}

export function parseCliArgs(argv: string[]): ParsedArgs {
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
    throw new UsageError(`${msg}. Run \`create-ovu-app --help\` for the options.`);
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

  return {
    command,
    given,
    workspace: typeof v.workspace === 'string' ? v.workspace : undefined,
    yes: flag('yes'),
    dryRun: flag('dry-run'),
    force: flag('force'),
    resetPassword: flag('reset-password'),
    json: flag('json'),
    help: flag('help'),
    version: flag('version'),
  };
}

function row(left: string, right: string): string {
  return `  ${left.padEnd(34)}${right}`;
}

/** --help, generated from the same schema the prompts and validation use. */
export function helpText(command: Command): string {
  const lines: string[] = [];
  if (command === 'provision') {
    lines.push(
      'Usage: create-ovu-app provision <app-name> [options]',
      '',
      "Create an existing app's database and login on a PostgreSQL server, harden it, verify it.",
      '',
      'Options:',
    );
  } else {
    lines.push(
      'Usage: create-ovu-app [new] <app-name> [options]',
      '       create-ovu-app provision <app-name> [options]',
      '',
      'Scaffold an OVU app following ADR-002: its own database <app>_db and login <app>_user,',
      'user data only through the ULM API, its own migrations.',
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
  lines.push(
    '',
    'Exit codes: 0 done, 1 failure, 2 bad usage or invalid answer, 130 cancelled.',
    'Without a TTY (or with CI=true) it never prompts: pass the app name and any flags.',
    'It keeps an index of the compose files it writes in your cache directory',
    '(~/.cache/create-ovu-app on Linux); OVU_CACHE_DIR=<dir> moves it, OVU_CACHE_DIR=off turns it off.',
    '',
    'Examples:',
    ...(command === 'new'
      ? [
          '  npm create ovu-app@latest inventory -- --yes',
          '  create-ovu-app inventory --kind readonly --port 8010 --dry-run',
          '  create-ovu-app inventory --yes --create-db --migrate',
        ]
      : []),
    '  create-ovu-app provision inventory --migrate --admin-url postgresql://postgres:postgres@localhost:5432/postgres',
  );
  return lines.join('\n');
}
