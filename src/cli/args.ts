import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';
import { QUESTIONS, parseValue, type Answers } from '../app/questions.ts';
import { PACKAGE_MANAGERS, type PackageManagerName } from '../stacks/package-managers.ts';
import { COMMANDS, COMMAND_DEFS, isCommand, type Command } from './commands.ts';

export type { Command } from './commands.ts';

/** Options that steer a run rather than answer a question. */
interface RunOption {
  name: string;
  short?: string;
  valueName?: string;
  /** One text, or one per command when it means something different there. */
  describe: string | Partial<Record<Command, string>>;
  /** Every command takes it; otherwise a command takes it when its registry entry lists it (CommandDef.options). */
  all?: true;
  /** The values it takes, when it is a choice. */
  choices?: readonly string[];
}

/** Whether `command` takes option `o`: the registry says, per command. */
const takes = (o: RunOption, command: Command): boolean => o.all === true || COMMAND_DEFS[command].options.includes(o.name);

const RUN_OPTIONS: RunOption[] = [
  { name: 'workspace', valueName: '<dir>', describe: 'platform root with docker-compose.yml and init-db.sql (default: nearest ancestor with a compose file, else .)', all: true },
  {
    name: 'yes',
    short: 'y',
    describe: {
      new: 'take defaults for everything not given; never prompt',
      provision: 'run without showing the SQL first and asking',
      update: 'write the merge without showing it first and asking (without a TTY it never asks)',
      remove: 'remove without asking (required without a terminal)',
      restore: 'restore without asking (required without a terminal)',
      doctor: 'with --fix: apply the fixes without showing them first and asking (needed without a terminal)',
    }
  },
  {
    name: 'dry-run',
    describe: {
      new: 'print every file the run would create or change, with diffs; write nothing',
      provision: 'print the SQL it would run (password hidden), every server-wide change and who would lose access; change nothing',
      update: 'print what the merge would do to each file, with diffs and conflicts; write nothing',
      remove: 'print the dump, every SQL statement and every file change it would make; change nothing',
      restore: 'print what would be replaced (tables with their row counts) and the command; change nothing',
      doctor: 'with --fix: print the files and SQL the fixes would change; change nothing',
    }
  },
  { name: 'force', describe: 'replace an existing app of the same name (its directory, service and init-db block)' },
  {
    name: 'base',
    valueName: '<tarball|dir>',
    describe: "the package of the version that generated the app (npm pack's .tgz or its directory), for offline use; default: fetched from the npm registry"
  },
  {
    name: 'from-db',
    valueName: '<name>',
    describe: "the database the dump was taken from, when it is not the app's own <app>_db (another database's dump is refused otherwise)",
  },
  { name: 'keep-db', describe: "leave the app's database and login on the server (no dump, no DROP)" },
  { name: 'keep', valueName: '<n>', describe: "then delete this app's oldest dumps beyond the newest <n> (retention)" },
  { name: 'reset-password', describe: "set the existing login's password to the one in <app>/.env" },
  { name: 'revoke-memberships', describe: 'end the login\'s role memberships (roles that can SET ROLE to it, roles it is in) instead of refusing it' },
  {
    name: 'package-manager',
    valueName: PACKAGE_MANAGERS.join('|'),
    choices: PACKAGE_MANAGERS,
    describe: 'install TypeScript apps with it and name it in the commands printed (default: the one that ran this, else npm)'
  },
  { name: 'fix', describe: 'apply the safe fixes the checks name (shown first; --yes without a terminal), then audit again' },
  { name: 'json', describe: 'print one JSON object with the result on stdout (schema/result-v1.schema.json)', all: true },
  { name: 'verbose', describe: "show the tools' output as they run (otherwise only when one fails)", all: true },
  { name: 'help', short: 'h', describe: 'show this help', all: true },
  { name: 'version', short: 'v', describe: 'print the version', all: true },
];

export interface ParsedArgs {
  command: Command;
  /** Answers given as flags or the positional name, already typed and parsed. */
  given: Partial<Answers>;
  /** The positional arguments, in order (the app name is also `given.name`). */
  positionals: string[];
  /** Every run option given, by name (`keep-db`, `base`, …): what the command's own options read. */
  options: Record<string, string | boolean | undefined>;
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
  const own = COMMAND_DEFS[command].questions;
  return QUESTIONS.filter((q) => q.flag.startsWith('--') && (own === 'all' || q.key in own)).map((q) => ({
    ...q,
    describe: own === 'all' ? q.describe : own[q.key]!,
  }));
}

const describeFor = (o: RunOption, command: Command): string => (typeof o.describe === 'string' ? o.describe : (o.describe[command] ?? ''));

/** The option `typed` most likely meant: within two edits (a typo), or the one it starts. */
export function closest(typed: string, names: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length]!;
  };
  const ranked = names.map((n) => ({ n, d: distance(typed, n) })).sort((x, y) => x.d - y.d || x.n.localeCompare(y.n));
  const best = ranked[0];
  if (best && best.d <= Math.min(2, Math.floor(typed.length / 2)) && ranked.filter((r) => r.d === best.d).length === 1) return best.n;
  const prefixed = names.filter((n) => typed.length >= 3 && n.startsWith(typed));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export function parseCliArgs(argv: string[], opts: ParseOptions = {}): ParsedArgs {
  // `create-ovu-app help [command]` and `create-ovu-app version` are the flags in words.
  if (argv[0] === 'help') return parseCliArgs([...(isCommand(argv[1]) ? [argv[1]] : []), '--help'], opts);
  if (argv[0] === 'version') return parseCliArgs(['--version'], opts);
  const runner = opts.runner ?? 'create-ovu-app';
  const command: Command = isCommand(argv[0]) ? argv[0] : 'new';
  const rest = isCommand(argv[0]) ? argv.slice(1) : argv;
  const def = COMMAND_DEFS[command];

  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const q of questionsFor(command)) {
    options[flagName(q.flag)] = { type: q.type === 'boolean' ? 'boolean' : 'string' };
  }
  for (const o of RUN_OPTIONS.filter((o) => takes(o, command))) {
    options[o.name] = { type: o.valueName ? 'string' : 'boolean', ...(o.short ? { short: o.short } : {}) };
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's messages are long and mention parseArgs internals; keep the useful part.
    const msg = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    const unknown = /^Unknown option '--([^'=]+)/.exec(msg)?.[1];
    const near = unknown === undefined ? undefined : closest(unknown, Object.keys(options));
    if (near) throw new UsageError(`${msg}: did you mean --${near}? Run \`${runner}${command === 'new' ? '' : ` ${command}`} --help\` for the options.`);
    throw new UsageError(`${msg}. Run \`${runner}${command === 'new' ? '' : ` ${command}`} --help\` for the options.`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const flag = (name: string): boolean => v[name] === true;

  const given: Partial<Answers> = {};
  if (parsed.positionals.length > def.positionals.length && !(v.help === true)) {
    const expected = def.positionals.length === 1 ? 'one app name' : def.positionals.length === 0 ? 'no arguments' : def.positionals.map((p) => `<${p}>`).join(' ');
    throw new UsageError(`Expected ${expected}, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}.${def.positionals.length === 1 ? ' Quote a name with spaces.' : ''}`);
  }
  if (def.positionals[0] === 'app-name' && parsed.positionals[0] !== undefined) given.name = parsed.positionals[0];
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
    positionals: parsed.positionals,
    options: Object.fromEntries(RUN_OPTIONS.filter((o) => takes(o, command)).map((o) => [o.name, v[o.name]])),
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
  const def = COMMAND_DEFS[command];
  const lines: string[] = [`Usage: create-ovu-app ${def.usage}`, '', ...def.about, ''];
  if (command === 'new') {
    lines.push('Commands:');
    for (const name of COMMANDS) lines.push(row(name, `${COMMAND_DEFS[name].summary}${name === 'new' ? '' : ` (\`${runner} ${name} --help\`)`}`));
    lines.push('');
  }
  lines.push('Options:');
  for (const q of questionsFor(command)) {
    lines.push(row(`${q.flag}${q.valueName ? ' ' + q.valueName : ''}`, q.describe));
  }
  for (const o of RUN_OPTIONS.filter((o) => takes(o, command))) {
    const names = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.valueName ? ' ' + o.valueName : ''}`;
    lines.push(row(names, describeFor(o, command)));
  }
  lines.push('', 'Exit codes: 0 done, 1 failure, 2 bad usage or invalid answer, 130 cancelled.');
  if (command === 'new') lines.push('Without a TTY (or with CI=true) it never prompts: pass the app name and any flags.');
  lines.push('', 'Examples:', ...def.examples.map((e) => `  ${runner} ${e}`));
  return lines.join('\n');
}
