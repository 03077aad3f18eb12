import { lockWorkspace, type WorkspaceLock } from '../plan/lock.ts';
import type { Io } from './io.ts';

/** The workspace's lock, after rolling back whatever an interrupted run left (and saying so). */
export async function openWorkspace(root: string, io: Io): Promise<WorkspaceLock> {
  const lock = await lockWorkspace(root, { signal: io.signal, onWait: (who) => io.notice(`waiting for another create-ovu-app run (${who}) to finish with ${root} …`) });
  if (lock.recovered) io.notice(lock.recovered);
  return lock;
}
