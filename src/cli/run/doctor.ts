import type { Runner } from './context.ts';
import * as report from '../report.ts';

export const run: Runner = async ({ args, io, co, out, state }) => {
  const { runDoctor } = await import('../../commands/doctor.ts');
  const r = await runDoctor(args, io);
  const { withRunner } = await import('../../commands/suggest.ts');
  // Advice names the CLI as the person started it (`node …/bin/create-ovu-app.js` from a clone).
  for (const check of r.checks) if (check.fix) check.fix = withRunner(check.fix, io.invoked);
  state.exitCode = r.exitCode;
  if (args.json) out(JSON.stringify(report.doctorJson(r), null, 2));
  else {
    // What --fix changes is shown before the audit's lines: a dry run's plan, or (after --yes, or
    // the confirmation that showed it) what it did.
    if (r.fix && r.fix.plan.repairs.length > 0) out([...report.doctorFixPlan(r.fix.plan, co, r.fix.applied), ''].join('\n'));
    out(report.doctorLines(r, co).map((l) => withRunner(l, io.invoked)).join('\n'));
    if (r.dryRun) out(co.bold('Dry run: nothing was changed in the workspace or on the server.'));
  }
};
