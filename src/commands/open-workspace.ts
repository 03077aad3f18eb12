import path from 'node:path';
import { UserError } from '../errors.ts';
import { interruptedPaths, leftBehind, STATE_DIR } from '../plan/journal.ts';
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

export interface Unfinished {
  /** Why the commit an earlier run left could not be rolled back now, and which command will. */
  message: string;
  /** The paths it was changing (absolute): not to be shown as whole. */
  paths: string[];
}

/**
 * For a command that does not hold the workspace (list, doctor, a dry run): a commit an earlier run
 * left half-done is rolled back at once under the lock, as a writing command would, so that
 * nothing reads a half-made app as a whole one. When the lock is busy (a run is writing now) or
 * this user cannot write there, it says so and which command will; the paths stay marked.
 */
export async function settleInterrupted(root: string, io: Pick<Io, 'notice'>): Promise<Unfinished | undefined> {
  if (!leftBehind(root)) return undefined;
  let lock: WorkspaceLock;
  try {
    lock = await lockWorkspace(root, { timeoutMs: 0 });
  } catch (err) {
    const paths = interruptedPaths(root);
    const journal = path.join(STATE_DIR, 'journal.json');
    const message =
      err instanceof UserError
        ? `another create-ovu-app run is writing ${root} now (${journal}): what this shows may be half-changed until it ends`
        : `an earlier create-ovu-app run was interrupted while writing ${root} (${journal}) and this user cannot roll it back (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run \`create-ovu-app doctor --fix\` as a user who can write there; until then ${paths.length ? paths.map((p) => path.relative(root, p)).join(', ') : 'the files it changed'} may be half-changed`;
    io.notice(message);
    return { message, paths };
  }
  lock.release();
  if (lock.recovered) io.notice(lock.recovered);
  return undefined;
}

/** A writing command's lock; a dry run holds none (it neither waits for nor blocks another run), but settles an interrupted commit first. */
export async function holdWorkspace(root: string, io: Io, dryRun: boolean): Promise<WorkspaceLock | undefined> {
  if (!dryRun) return openWorkspace(root, io);
  await settleInterrupted(root, io);
  return undefined;
}
