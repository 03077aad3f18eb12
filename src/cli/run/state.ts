import type { Command } from '../commands.ts';
import type { NewApp } from '../../commands/new-plan.ts';
import type * as report from '../report.ts';

/** What the run has done so far: what its result, an error or an interruption reports. */
export interface RunState {
  command: Command;
  /** The new app once its plan is on disk. */
  committed?: NewApp;
  steps: report.StepRecord[];
  /** The exit code of a run that ends without an error but does not succeed (update's conflicts, doctor's failed checks); default 0. */
  exitCode?: number;
  /** Time spent waiting for the user at prompts, left out of "Done in". */
  promptMs: number;
}
