import type { Runner } from './context.ts';
import * as report from '../report.ts';

export const run: Runner = async ({ args, io, co, out }) => {
  const { runList } = await import('../../commands/list.ts');
  const r = await runList(args, io);
  if (args.json) out(JSON.stringify(report.listJson(r), null, 2));
  else out(report.listTable(r, co).join('\n'));
};
