/**
 * remove closes the app's login (NOLOGIN) before its dump, so nothing is written after it. A
 * process killed in that window (SIGKILL, a lost machine) cannot open it again, and the app is
 * then down with nobody told. So remove notes it in the workspace's state directory before the
 * login is closed and takes the note away once the login is open again or dropped. Every later
 * run that opens the workspace says so and how to mend it; `remove` run again treats the login as
 * its own to open again (when the dump fails or the person declines) or finishes the removal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeStateDir, removeIfEmpty, STATE_DIR } from '../plan/journal.ts';

export interface ClosedLogin {
  app: string;
  role: string;
  /** host:port of the server. */
  where: string;
  /** ISO time the login was closed. */
  since: string;
}

const PREFIX = 'closed-login-';

export function closedLoginFile(root: string, slug: string): string {
  return path.join(root, STATE_DIR, `${PREFIX}${slug}.json`);
}

/** Written (and fsynced) before the NOLOGIN, so a kill right after it still leaves the note. */
export function noteClosed(root: string, c: ClosedLogin): void {
  makeStateDir(root);
  const fd = fs.openSync(closedLoginFile(root, c.app), 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(c));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function clearClosed(root: string, slug: string): void {
  fs.rmSync(closedLoginFile(root, slug), { force: true });
  removeIfEmpty(path.join(root, STATE_DIR));
}

export function readClosed(root: string, slug: string): ClosedLogin | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(closedLoginFile(root, slug), 'utf8')) as ClosedLogin;
    return typeof c.role === 'string' && typeof c.where === 'string' ? { ...c, app: slug } : undefined;
  } catch {
    return undefined;
  }
}

/** Every login an interrupted remove left closed in this workspace. */
export function closedLogins(root: string): ClosedLogin[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(root, STATE_DIR));
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const m = new RegExp(`^${PREFIX}(.+)\\.json$`).exec(n);
    const c = m ? readClosed(root, m[1]!) : undefined;
    return c ? [c] : [];
  });
}

/** What to tell the person: what is down, since when, and the two ways out. */
export function closedLoginNotice(c: ClosedLogin, root: string, removeAgain: string): string {
  return (
    `${c.role} cannot log in at ${c.where} since ${c.since}: a remove of ${c.app} was interrupted after closing its login (NOLOGIN) for the dump, so ${c.app} is down. ` +
    `Run \`${removeAgain}\` to finish the removal (if its dump fails the login is opened again), or to keep the app have the admin run ALTER ROLE ${c.role} LOGIN and delete ${path.relative(root, closedLoginFile(root, c.app))}.`
  );
}
