import type { Runner } from './context.ts';
import * as report from '../report.ts';

export const run: Runner = async ({ args, io, co, out, state }) => {
  const { runUpdate } = await import('../../commands/update.ts');
  const r = await runUpdate(args, io);
  // Conflicts are written and listed, and the run says so in its exit code, so CI notices.
  if (r.conflicts.length) state.exitCode = 1;
  if (args.json) out(JSON.stringify(report.updateJson(r, state.steps, state.exitCode ?? 0), null, 2));
  else out(report.updateSummary(r, co).join('\n'));
};
