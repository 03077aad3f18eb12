/** Each command's runner, loaded when that command runs (so --help loads none of them). */
import type { Command } from '../commands.ts';
import type { Runner } from './context.ts';

export const RUNNERS: Record<Command, () => Promise<{ run: Runner }>> = {
  new: () => import('./new.ts'),
  provision: () => import('./provision.ts'),
  update: () => import('./update.ts'),
  remove: () => import('./remove.ts'),
  backup: () => import('./backup.ts'),
  restore: () => import('./restore.ts'),
  list: () => import('./list.ts'),
  doctor: () => import('./doctor.ts'),
};
