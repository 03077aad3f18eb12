import path from 'node:path';
import type { Runner } from './context.ts';
import * as report from '../report.ts';

export const run: Runner = async ({ args, io, co, out }) => {
  const { runRemove, removeLines } = await import('../../commands/remove.ts');
  const r = await runRemove(args, io);
  if (args.json) return out(JSON.stringify(report.removeJson(r), null, 2));
  if (r.dryRun) {
    out([co.bold(`remove ${r.spec.names.slug} would:`), ...removeLines(r), '', co.bold('Dry run: nothing was changed on the server or in the workspace.')].join('\n'));
    return;
  }
  const rel = (p: string): string => path.relative(process.cwd(), p) || '.';
  const lines = [`${co.green('✔')} Removed ${co.bold(r.spec.names.slug)} from ${r.root}; its directory is now ${rel(r.movedTo)}/`];
  if (r.dump) lines.push(`  dump of ${r.spec.names.db}: ${rel(r.dump.file)} (${r.dump.bytes} bytes; create-ovu-app restore brings it back)`);
  if (r.dropped.length) lines.push(`  ${r.dropped.join(', ')} at ${r.server!.where}`);
  if (r.keepDb) lines.push(`  ${r.spec.names.db} and ${r.spec.names.user} stay on the server (--keep-db)`);
  out(lines.join('\n'));
};
