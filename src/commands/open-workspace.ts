import { lockWorkspace, type WorkspaceLock } from '../plan/lock.ts';
import { closedLoginNotice, closedLogins } from './closed-login.ts';
import { suggestCommand } from './suggest.ts';
import type { Io } from './io.ts';

/** The workspace's lock, after rolling back whatever an interrupted run left (and saying so). */
export async function openWorkspace(root: string, io: Io): Promise<WorkspaceLock> {
  const lock = await lockWorkspace(root, { signal: io.signal, onWait: (who) => io.notice(`waiting for another create-ovu-app run (${who}) to finish with ${root} …`) });
  if (lock.recovered) io.notice(lock.recovered);
  noticeClosedLogins(root, io);
  return lock;
}

/** A login an interrupted remove left closed: the app is down until someone acts (closed-login.ts). */
export function noticeClosedLogins(root: string, io: Io): void {
  for (const c of closedLogins(root)) io.notice(closedLoginNotice(c, root, suggestCommand(io.invoked, ['remove', c.app, '--yes'], { adminUrl: true })));
}
