import type { Runner } from './context.ts';
import * as report from '../report.ts';

export const run: Runner = async ({ args, io, c, co, out, err, state }) => {
  const { runProvision } = await import('../../commands/provision.ts');
  const r = await runProvision(args, io);
  if (args.json) out(JSON.stringify(report.provisionJson(r, state.steps), null, 2));
  else {
    for (const l of r.files) err(report.reportLine(l, c));
    if (r.dryRun) out([...report.provisionPlan(r.report, co), '', co.bold('Dry run: nothing was changed on the server or in the workspace.')].join('\n'));
    else out(`${co.green('✔')} ${r.spec.names.db} is ready for ${r.spec.names.user}.`);
  }
};
