/**
 * What a command needs from whoever runs it: answers, a confirmation, progress. The CLI
 * implements it (src/cli/main.ts); commands never print.
 */
import type { Answers, WorkspaceFacts } from '../app/questions.ts';
import type { NewApp } from './new-plan.ts';
import type { ProvisionReport } from '../database/provision.ts';
import type { TaskOutcome } from './tasks.ts';

export interface Io {
  /** Prompts are possible (a TTY, not CI, no --yes, no --json). */
  interactive: boolean;
  /** Output for machines: tools' own output goes to stderr. */
  json: boolean;
  /** Every answer: the given ones validated, the rest prompted or defaulted. */
  answers(given: Partial<Answers>, facts: WorkspaceFacts): Promise<Answers>;
  /** Interactive only: shows what the plan will do and asks to go on. */
  confirm(app: NewApp): Promise<boolean>;
  /** Interactive only: shows the SQL a provision would run (provision --dry-run's plan) and asks to go on. */
  confirmProvision?(plan: ProvisionReport): Promise<boolean>;
  /** Aborted when the user interrupts (Ctrl-C) a running step: a task stops and undoes its work. */
  signal?: AbortSignal;
  /**
   * Starts a slow step; the returned function ends it. `interruptible`: the step stops and undoes
   * its work when `signal` aborts, so Ctrl-C should abort it rather than end the process.
   */
  step(label: string, opts?: { interruptible?: boolean }): (ok: boolean, outcome?: TaskOutcome) => void;
}
