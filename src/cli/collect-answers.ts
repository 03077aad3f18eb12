import { UsageError } from '../errors.ts';
import { QUESTIONS, defaultFor, validateAnswer, type Answers, type Question, type WorkspaceFacts } from '../app/questions.ts';
import { deriveNames } from '../app/names.ts';
import { suggestCommand, type Invocation } from '../commands/suggest.ts';

export interface CollectOptions {
  /** Ends an open prompt (SIGTERM, SIGHUP). */
  signal?: AbortSignal;
  given: Partial<Answers>;
  facts: WorkspaceFacts;
  /** Prompt for what is not given (a TTY, not CI, no --yes). */
  interactive: boolean;
  /** How the user ran us, for the commands a message suggests. */
  invoked: Invocation;
}

/**
 * Fills in every answer: flags first, then prompts (interactive) or defaults (--yes / no TTY),
 * validating each one with the schema's own rules either way.
 */
export async function collectAnswers({ given, facts, interactive, invoked, signal }: CollectOptions): Promise<Answers> {
  const a: Partial<Answers> = {};
  let advanced: boolean | undefined;
  const prompts = interactive ? await import('./prompts.ts') : undefined;

  for (const q of QUESTIONS) {
    if (q.skip?.(a)) continue;
    let value = given[q.key] as unknown;
    if (value !== undefined) {
      const problem = validateAnswer(q, value, a, facts);
      if (problem) throw new UsageError(problem);
    } else if (prompts && q.message) {
      if (q.advanced) {
        // Only what applies to this app: a readonly app has no pool to tune.
        const topics = QUESTIONS.filter((x) => x.advanced && !x.skip?.(a) && given[x.key] === undefined).map((x) => x.advanced!.topic);
        advanced ??= await prompts.askAdvanced([...new Set(topics)], signal);
      }
      value = !q.advanced || advanced ? await prompts.ask(q, a, facts, signal) : defaultFor(q, a, facts);
    } else if (q.required) {
      throw new UsageError(missingMessage(q, invoked));
    } else {
      value = defaultFor(q, a, facts);
      const problem = value === undefined ? undefined : validateAnswer(q, value, a, facts);
      if (problem) throw new UsageError(problem);
    }
    (a as Record<string, unknown>)[q.key] = value;
  }
  // Combinations that cannot succeed stop here, before anything is written, naming the flag to add.
  if (given.migrate && !a.createDb && a.kind !== 'readonly') {
    const later = suggestCommand(invoked, ['provision', a.name!, '--migrate'], { adminUrl: true });
    throw new UsageError(`--migrate needs --create-db in the same run: add --create-db, or run this later: ${later}`);
  }
  if (given.migrate && a.createDb && !a.install) {
    throw new UsageError("--migrate runs the app's own migration tool, which only --install puts in place: add --install (or drop --migrate).");
  }
  if (given.createDb && a.kind === 'readonly') {
    throw new UsageError('--create-db does not apply to --kind readonly apps: they have no database.');
  }
  return a as Answers;
}

function missingMessage(q: Question, invoked: Invocation): string {
  return q.key === 'name'
    ? `Missing the app name, and there is no terminal to ask for it: pass it, e.g. \`${suggestCommand(invoked, ['inventory', '--yes'])}\`.`
    : `Missing ${q.flag}, and there is no terminal to ask for it: pass ${q.flag}.`;
}

/** Turns @inquirer's Ctrl-C into our cancellation. */
export function isPromptExit(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError');
}


/** Shown live under the name prompt: what the name turns into, part by part; none for a name that derives nothing. */
export function describeName(input: string): string[] {
  try {
    const n = deriveNames(input);
    return [`${n.slug}/`, `database ${n.db}`, `login ${n.user}`, `service ${n.service}`];
  } catch {
    return [];
  }
}
