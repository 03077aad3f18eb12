import type { Runner } from './context.ts';
import * as report from '../report.ts';

export const run: Runner = async ({ args, io, co, out }) => {
  const { runRestore, restoreLines } = await import('../../commands/restore.ts');
  const r = await runRestore(args, io);
  if (args.json) return out(JSON.stringify(report.restoreJson(r), null, 2));
  const { db, user } = r.spec.names;
  if (r.dryRun) {
    out([co.bold(`restore into ${db} at ${r.plan.server.where} would:`), ...restoreLines(r.plan, db), '', co.bold('Dry run: nothing was changed on the server.')].join('\n'));
    return;
  }
  const tables = r.after?.tables?.map((t) => `${t.table} (${t.rows})`).join(', ') ?? 'not counted';
  out(
    [
      `${co.green('✔')} Restored ${r.plan.file} into ${db} at ${r.plan.server.where}: ${tables}`,
      `  owner ${r.after?.owner}${r.after?.owner === user ? '' : co.yellow(` (expected ${user})`)}, PUBLIC ${r.after?.publicRevoked ? 'revoked' : co.yellow('has privileges on it: run create-ovu-app provision to revoke them')}`,
    ].join('\n'),
  );
};
