/**
 * Errors a user can cause or fix. The CLI prints their message on one line and exits with
 * `exitCode`; anything else is a bug and gets a stack trace.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** Bad flags or an invalid answer: exit 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** Ctrl-C or a declined confirmation: exit 130, nothing written. */
export class CancelledError extends UserError {
  constructor(message = 'Cancelled: nothing was written.') {
    super(message, 130);
    this.name = 'CancelledError';
  }
}

/** Ctrl-C (SIGINT) during the run: exit 130; the CLI says what was written and how to go on. */
export class InterruptedError extends CancelledError {
  constructor(message = 'Interrupted.') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** A tool (installer, migration runner) that failed, with what it printed while its output was folded. */
export class ToolError extends UserError {
  readonly output: string;
  constructor(message: string, output: string, exitCode = 1) {
    super(message, exitCode);
    this.name = 'ToolError';
    this.output = output;
  }
}
