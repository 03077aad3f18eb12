import type { Runner } from './context.ts';
import * as report from '../report.ts';
import { renderDryRun } from '../output.ts';
import { seconds } from '../progress.ts';

export const run: Runner = async ({ args, io, co, out, state, started }) => {
  const { runNew } = await import('../../commands/new.ts');
  const r = await runNew(args, io);
  if (args.json) out(JSON.stringify(report.newJson(r, state.steps), null, 2));
  else if (r.dryRun) {
    out(renderDryRun(r.app.plan, r.app.snapshot.workspace.root, co, r.app.kept));
    // The steps after the files touch the machine and the server: say them too, run none.
    if (r.app.tasks.length) out(['', co.bold('Then it would:'), ...r.app.tasks.map((t) => `  ${t.preview}`)].join('\n'));
  }
  else {
    out(report.newSummary(r, co, !io.interactive));
    out(co.dim(`\nDone in ${seconds(Date.now() - started - state.promptMs)}.`));
  }
};
