/**
 * The progress of a slow step on stderr. In a terminal: one spinner line with the elapsed time
 * that resolves in place to ✔ or ✖. Elsewhere (a pipe, a log, TERM=dumb): just the final line,
 * or, with --verbose, a start line too, since the tool's own output comes between.
 */
import type { Colours } from './output.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface StepLine {
  /** Ends the step: its final line replaces the spinner. */
  end(ok: boolean, text: string): void;
  /** Takes the spinner off the screen (before the caller writes something else). */
  clear(): void;
}

export interface ProgressOptions {
  /** stderr, or a test's stand-in. */
  stream: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  colours: Colours;
  /** The spinner may redraw its line (a terminal that understands \r and erase-line). */
  live: boolean;
  /** The tools' output is shown as it comes: no spinner, a start line. */
  verbose: boolean;
  /** ms between frames. */
  interval?: number;
}

/** Whether a spinner can redraw its line on this stream. */
export function canAnimate(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && env.TERM !== 'dumb' && !['1', 'true'].includes(String(env.CI ?? '').toLowerCase());
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** Starts a step's line. */
export function startStep(label: string, opts: ProgressOptions): StepLine {
  const { stream, colours: c } = opts;
  const started = Date.now();
  const spin = opts.live && !opts.verbose;
  let frame = 0;
  let shown = false;
  const width = () => Math.max(20, (stream.columns ?? 80) - 1);
  const draw = () => {
    const text = `${c.cyan(FRAMES[frame++ % FRAMES.length]!)} ${label} ${c.dim(`(${seconds(Date.now() - started)})`)}`;
    // One screen line, so that \r returns to its start: cut what the terminal would wrap.
    const plainLength = `x ${label} (00.0s)`.length;
    const fitted = plainLength > width() ? `${c.cyan(FRAMES[(frame - 1) % FRAMES.length]!)} ${label.slice(0, Math.max(0, width() - 12))}… ${c.dim(`(${seconds(Date.now() - started)})`)}` : text;
    stream.write(`\r\x1b[2K${fitted}`);
    shown = true;
  };
  let timer: NodeJS.Timeout | undefined;
  if (spin) {
    draw();
    timer = setInterval(draw, opts.interval ?? 80);
    timer.unref();
  } else if (opts.verbose) {
    stream.write(`${c.dim(`… ${label}`)}\n`);
  }
  const clear = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  return {
    clear,
    end(ok, text) {
      clear();
      stream.write(`${ok ? c.green('✔') : c.red('✖')} ${text} ${c.dim(`(${seconds(Date.now() - started)})`)}\n`);
    },
  };
}
