import path from 'node:path';
import type { Runner } from './context.ts';
import * as report from '../report.ts';

export const run: Runner = async ({ args, io, co, out }) => {
  const { runBackup } = await import('../../commands/backup.ts');
  const r = await runBackup(args, io);
  if (args.json) return out(JSON.stringify(report.backupJson(r), null, 2));
  const rel = (p: string): string => path.relative(process.cwd(), p) || p;
  const lines = [`${co.green('✔')} ${rel(r.dump.file)}: ${r.spec.names.db} at ${r.server.where} (PostgreSQL ${r.server.version}), ${r.dump.bytes} bytes, by ${r.dump.tool}`];
  if (r.pruned.length) lines.push(`  deleted ${r.pruned.length} older dump(s) (--keep): ${r.pruned.map((p) => path.basename(p)).join(', ')}`);
  out(lines.join('\n'));
};
