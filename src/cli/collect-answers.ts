import { UsageError } from '../errors.ts';
import { QUESTIONS, defaultFor, validateAnswer, type Answers, type Question, type WorkspaceFacts } from '../app/questions.ts';
import { deriveNames } from '../app/names.ts';

export interface CollectOptions {
  given: Partial<Answers>;
  facts: WorkspaceFacts;
  /** Prompt for what is not given (a TTY, not CI, no --yes). */
  interactive: boolean;
  /** Ends an open prompt (SIGTERM, SIGHUP). */
  signal?: AbortSignal;
}

/**
 * Fills in every answer: flags first, then prompts (interactive) or defaults (--yes / no TTY),
 * validating each one with the schema's own rules either way.
 */
export async function collectAnswers({ given, facts, interactive, signal }: CollectOptions): Promise<Answers> {
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
        advanced ??= await prompts.askAdvanced(signal);
      }
      value = !q.advanced || advanced ? await prompts.ask(q, a, facts, signal) : defaultFor(q, a, facts);
    } else if (q.required) {
      throw new UsageError(missingMessage(q));
    } else {
      value = defaultFor(q, a, facts);
      const problem = value === undefined ? undefined : validateAnswer(q, value, a, facts);
      if (problem) throw new UsageError(problem);
    }
    (a as Record<string, unknown>)[q.key] = value;
  }
  if (given.migrate && !given.createDb && a.kind !== 'readonly') {
    throw new UsageError('--migrate needs --create-db in the same run (or run `create-ovu-app provision <app> --migrate` later).');
  }
  if (given.createDb && a.kind === 'readonly') {
    throw new UsageError('--create-db does not apply to --kind readonly apps: they have no database.');
  }
  return a as Answers;
}

function missingMessage(q: Question): string {
  return q.key === 'name'
    ? 'Missing the app name, and there is no terminal to ask for it: pass it, e.g. `create-ovu-app inventory --yes`.'
    : `Missing ${q.flag}, and there is no terminal to ask for it: pass ${q.flag}.`;
}

/** Turns @inquirer's Ctrl-C into our cancellation. */
export function isPromptExit(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError');
}


/** Shown live under the name prompt: what the name turns into. */
export function describeName(input: string): string {
  try {
    const n = deriveNames(input);
    return `${n.slug}/ · database ${n.db} · login ${n.user} · service ${n.service}`;
  } catch {
    return '';
  }
}
