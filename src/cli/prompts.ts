import { confirm, input, select } from '@inquirer/prompts';
import { defaultFor, validateAnswer, type Answers, type Question, type WorkspaceFacts } from '../app/questions.ts';
import { describeName } from './collect-answers.ts';

/** One prompt per question type; the schema supplies message, default and validation. */
export async function ask(q: Question, a: Partial<Answers>, facts: WorkspaceFacts): Promise<unknown> {
  const fallback = defaultFor(q, a, facts);
  const check = (value: unknown): true | string => validateAnswer(q, value, a, facts) ?? true;
  switch (q.type) {
    case 'choice':
      return select({
        message: q.message!,
        choices: q.choices.map((c) => ({ name: c.label, value: c.value })),
        default: fallback as string,
      });
    case 'boolean':
      return confirm({ message: q.message!, default: fallback as boolean });
    case 'int': {
      const text = await input({
        message: q.message!,
        default: String(fallback),
        validate: (v) => (/^\d+$/.test(v.trim()) ? check(Number(v)) : `Enter a whole number from ${q.min} to ${q.max}.`),
      });
      return Number(text.trim());
    }
    case 'string': {
      const text = await input({
        message: q.message!,
        ...(fallback !== undefined ? { default: String(fallback) } : {}),
        required: Boolean(q.required),
        validate: check,
        // Live feedback: the derived database, login and service names as the user types.
        // A name that derives nothing (invalid so far) shows just what was typed, not a dangling arrow.
        transformer:
          q.key === 'name'
            ? (v, { isFinal }) => {
                const described = isFinal || !v ? '' : describeName(v);
                return described ? `${v}  → ${described}` : v;
              }
            : (v) => v,
      });
      return text.trim();
    }
  }
}

export function askAdvanced(): Promise<boolean> {
  return confirm({ message: 'Customise advanced settings (DB pool, ULM URL)?', default: false });
}

export function confirmPlan(): Promise<boolean> {
  return confirm({ message: 'Write these files?', default: true });
}

export function confirmProvision(): Promise<boolean> {
  return confirm({ message: 'Run these statements on the server?', default: false });
}
