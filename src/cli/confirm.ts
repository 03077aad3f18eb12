/**
 * How each command's confirmation is shown and asked (src/commands/io.ts's Confirmations): one
 * entry per command that asks before it acts.
 */
import type { Confirmation, Confirmations } from '../commands/io.ts';
import type { Colours } from './output.ts';
import * as report from './report.ts';

type Shown = { [K in keyof Confirmations]: (plan: Confirmations[K], c: Colours) => string[] };
type Asked = { [K in keyof Confirmations]: (plan: Confirmations[K], signal: AbortSignal) => Promise<boolean> };

const destructive = (plan: Confirmations['remove'], c: Colours): string[] => [c.bold(plan.title), ...plan.lines.map((l) => `  ${l}`)];

const SHOWN: Shown = {
  new: (app, c) => report.planSummary(app, c),
  provision: (plan, c) => report.provisionPlan(plan, c),
  update: (update, c) => report.updateSummary(update, c, true),
  remove: destructive,
  restore: destructive,
  doctor: (fix, c) => report.doctorFixPlan(fix, c),
};

const ASKED: Asked = {
  new: async (_app, signal) => (await import('./prompts.ts')).confirmPlan(signal),
  provision: async (_plan, signal) => (await import('./prompts.ts')).confirmProvision(signal),
  update: async (_update, signal) => (await import('./prompts.ts')).confirmPlan(signal),
  remove: async (plan, signal) => (await import('./prompts.ts')).confirmDestructive(plan.question, signal),
  restore: async (plan, signal) => (await import('./prompts.ts')).confirmDestructive(plan.question, signal),
  doctor: async (_fix, signal) => (await import('./prompts.ts')).confirmFix(signal),
};

/** The lines shown before the question. */
export function shown(request: Confirmation, c: Colours): string[] {
  return (SHOWN[request.command] as (plan: unknown, c: Colours) => string[])(request.plan, c);
}

/** Asks; true to go on. */
export function asked(request: Confirmation, signal: AbortSignal): Promise<boolean> {
  return (ASKED[request.command] as (plan: unknown, signal: AbortSignal) => Promise<boolean>)(request.plan, signal);
}
