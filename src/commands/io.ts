/**
 * What a command needs from whoever runs it: answers, a confirmation, progress. The CLI
 * implements it (src/cli/main.ts); commands never print.
 */
import type { Answers, WorkspaceFacts } from '../app/questions.ts';
import type { Toolchain } from '../stacks/stack.ts';
import type { Workspace } from '../workspace/workspace.ts';
import type { NewApp } from './new-plan.ts';
import type { Invocation } from './suggest.ts';
import type { Task, TaskOutcome } from './tasks.ts';
import type { ProvisionReport } from '../database/provision.ts';
import type { UpdateResult } from './update.ts';
import type { FixPlan } from './doctor.ts';
import type { Command } from './registry.ts';

export interface Io {
  /** Prompts are possible (a TTY, not CI, no --yes, no --json). */
  interactive: boolean;
  /** Output for machines: the result is one JSON object on stdout, and no progress is shown. */
  json: boolean;
  /** Show the tools' output as it comes (--verbose); otherwise it is shown only when one fails. */
  verbose: boolean;
  /** Something the user should know that is not a step (e.g. waiting for another run). */
  notice(text: string): void;
  /** Aborted on Ctrl-C (SIGINT), SIGTERM or SIGHUP: commands stop at the next safe point, tools are stopped. */
  signal: AbortSignal;
  /** The package manager and Python installer to install with and to name in next steps. */
  tools: Toolchain;
  /** How the user ran us: what a suggested command repeats. */
  invoked: Invocation;
  /** Every answer: the given ones validated, the rest prompted or defaulted (`ws`: named in the intro). */
  answers(given: Partial<Answers>, facts: WorkspaceFacts, ws: Workspace): Promise<Answers>;
  /** Interactive only: which of these compose services apps use as their PostgreSQL (what --db-service says). */
  chooseDatabase?(candidates: { name: string; file: string; why: string }[], why: string): Promise<string>;
  /**
   * Interactive only: shows what the command's plan will do and asks to go on. One method for
   * every command: what each shows is its entry in Confirmations, how it is shown src/cli/confirm.ts.
   */
  confirm(request: Confirmation): Promise<boolean>;
  /** The plan is on disk: from here on, a failure or Ctrl-C leaves the app's files written. */
  committed(app: NewApp): void;
  /** Starts a slow step; the returned function ends it. */
  step(label: string, id: Task['id']): (ok: boolean, outcome?: TaskOutcome) => void;
}

/**
 * What each command that asks before it acts shows (keys: the command registry's names,
 * src/commands/registry.ts): new its plan, provision the SQL (its --dry-run), update what it would
 * write, remove and restore every line of what they will do (the default answer is no), doctor
 * --fix the files and SQL it would change.
 */
export interface Confirmations {
  new: NewApp;
  provision: ProvisionReport;
  update: UpdateResult;
  remove: DestructivePlan;
  restore: DestructivePlan;
  doctor: FixPlan;
}

export type Confirmation = { [K in keyof Confirmations & Command]: { command: K; plan: Confirmations[K] } }[keyof Confirmations & Command];

/** What remove or restore would do, as the confirmation shows it. */
export interface DestructivePlan {
  /** One line: what is about to happen. */
  title: string;
  /** Everything it does, one line each (files, SQL, the dump). */
  lines: string[];
  /** The question, e.g. "Remove inventory?". */
  question: string;
}
