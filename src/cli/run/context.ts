/** What a command's runner gets from main.ts: its streams' colours, the printers and the run's state. */
import type { ParsedArgs } from '../args.ts';
import type { Colours } from '../output.ts';
import type { Io } from '../../commands/io.ts';
import type { RunState } from './state.ts';

export interface RunContext {
  args: ParsedArgs;
  io: Io;
  /** Colours for stderr (progress, plans, errors) and for stdout (the result). */
  c: Colours;
  co: Colours;
  /** stdout: the result. */
  out(line: string): void;
  /** stderr: everything else. */
  err(line: string): void;
  state: RunState;
  /** When the run started (ms), for "Done in". */
  started: number;
}

/** A command as the CLI runs it: the command's work, then what it prints. */
export type Runner = (ctx: RunContext) => Promise<void>;
