import { confirm, input, select } from '@inquirer/prompts';
import { defaultFor, validateAnswer, type Answers, type Question, type WorkspaceFacts } from '../app/questions.ts';
import { describeName } from './collect-answers.ts';
import { adminUrlProblem, describeServer, resolveAdminUrl } from '../database/admin-url.ts';

/** The server --create-db uses unless the person names another (PG* variables, else the local default). */
function defaultServer(): string {
  try {
    return describeServer(resolveAdminUrl(undefined, process.env, { localDefault: true }));
  } catch {
    return 'the server the PG* variables name';
  }
}

/** One prompt per question type; the schema supplies message, default and validation. */
/** `signal` ends an open prompt (SIGTERM, SIGHUP: Ctrl-C ends it by itself). */
export async function ask(q: Question, a: Partial<Answers>, facts: WorkspaceFacts, signal?: AbortSignal): Promise<unknown> {
  const context = signal ? { signal } : {};
  const fallback = defaultFor(q, a, facts);
  const check = (value: unknown): true | string => validateAnswer(q, value, a, facts) ?? true;
  if (q.key === 'createDb') {
    return confirm({ message: `Create the database and login on PostgreSQL at ${defaultServer()} now?`, default: fallback as boolean }, context);
  }
  if (q.key === 'adminUrl') {
    const text = await input({
      message: `PostgreSQL server: Enter keeps ${defaultServer()}, or type another's admin URL`,
      required: false,
      validate: (v) => (v.trim() === '' ? true : (adminUrlProblem(v.trim(), 'the admin URL') ?? true)),
    }, context);
    return text.trim() === '' ? undefined : text.trim();
  }
  switch (q.type) {
    case 'choice':
      return select({
        message: q.message!,
        choices: q.choices.map((c) => ({ name: c.label, value: c.value })),
        default: fallback as string,
      }, context);
    case 'boolean':
      return confirm({ message: q.message!, default: fallback as boolean }, context);
    case 'int': {
      const text = await input({
        message: q.message!,
        default: String(fallback),
        validate: (v) => (/^\d+$/.test(v.trim()) ? check(Number(v)) : `Enter a whole number from ${q.min} to ${q.max}.`),
      }, context);
      return Number(text.trim());
    }
    case 'string': {
      if (q.key === 'name') {
        // Live feedback under the line: the derived directory, database, login and service names.
        const { namePrompt } = await import('./name-prompt.ts');
        return namePrompt({ message: q.message!, preview: describeName, validate: check }, context);
      }
      const text = await input({
        message: q.message!,
        ...(fallback !== undefined ? { default: String(fallback) } : {}),
        required: Boolean(q.required),
        validate: check,
      }, context);
      return text.trim();
    }
  }
}

/** Which compose service is the platform's PostgreSQL (--db-service), when the file cannot say. */
export function chooseDatabase(candidates: { name: string; file: string; why: string }[], signal?: AbortSignal): Promise<string> {
  return select({
    message: 'Which service is the PostgreSQL server apps use?',
    choices: candidates.map((c) => ({ name: c.name, value: c.name, description: `${c.file}: ${c.why}` })),
  }, signal ? { signal } : {});
}

export function askAdvanced(topics: string[], signal?: AbortSignal): Promise<boolean> {
  return confirm({ message: `Customise advanced settings (${topics.join(', ')})?`, default: false }, signal ? { signal } : {});
}

export function confirmPlan(signal?: AbortSignal): Promise<boolean> {
  return confirm({ message: 'Write these files?', default: true }, signal ? { signal } : {});
}

export function confirmProvision(signal?: AbortSignal): Promise<boolean> {
  return confirm({ message: 'Run these statements on the server?', default: false }, signal ? { signal } : {});
}

export function confirmDestructive(question: string, signal?: AbortSignal): Promise<boolean> {
  return confirm({ message: question, default: false }, signal ? { signal } : {});
}

export function confirmFix(signal?: AbortSignal): Promise<boolean> {
  return confirm({ message: 'Apply these fixes?', default: false }, signal ? { signal } : {});
}
