/**
 * One writer at a time: `.create-ovu-app/lock` in the workspace, created exclusively, held by a
 * command from reading the workspace to the end of its last step. A second run waits, then gives
 * up with a one-line error; a lock whose process is gone (same host) is taken over. Holding it,
 * a command first rolls back or finishes whatever commit an earlier run left (journal.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledError, UserError } from '../errors.ts';
import { makeStateDir, recover, removeIfEmpty, STATE_DIR } from './journal.ts';

interface Holder {
  pid: number;
  host: string;
  since: string;
}

export interface WorkspaceLock {
  /** What recovery did, if anything (a sentence for the user). */
  recovered: string | undefined;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined; // gone, or being written
  }
}

export interface LockOptions {
  /** How long to wait for another run (default OVU_LOCK_TIMEOUT seconds, else 60 s). */
  timeoutMs?: number;
  /** Called once when the lock is busy, before waiting. */
  onWait?: (holder: string) => void;
  /** Stops the wait. */
  signal?: AbortSignal;
}

export async function lockWorkspace(root: string, opts: LockOptions = {}): Promise<WorkspaceLock> {
  const dir = path.join(root, STATE_DIR);
  const file = path.join(dir, 'lock');
  const timeoutMs = opts.timeoutMs ?? Number(process.env['OVU_LOCK_TIMEOUT'] ?? 60) * 1000;
  const deadline = Date.now() + timeoutMs;
  const me: Holder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  let told = false;
  for (;;) {
    try {
      // The directory may vanish between the two calls (another run's release): try again then.
      makeStateDir(root);
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (holder && holder.host === me.host && !alive(holder.pid)) {
      // Its process is gone: take the lock over (rename first, so two takers cannot both win).
      const stale = `${file}.stale-${process.pid}`;
      try {
        fs.renameSync(file, stale);
        fs.rmSync(stale, { force: true });
      } catch {
        // someone else took it over first
      }
      continue;
    }
    const who = holder ? `pid ${holder.pid} on ${holder.host}, since ${holder.since}` : 'another process';
    if (Date.now() >= deadline) {
      throw new UserError(`another create-ovu-app run (${who}) is changing ${root}: wait for it to finish and run again (or remove ${path.relative(process.cwd(), file) || file} if no such run exists).`);
    }
    if (opts.signal?.aborted) throw new CancelledError(`Stopped by ${String(opts.signal.reason)} while waiting for another run: nothing was written.`);
    if (!told) opts.onWait?.(who);
    told = true;
    await new Promise((r) => setTimeout(r, 100));
  }
  let recovered: string | undefined;
  try {
    recovered = recover(root);
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  return {
    recovered,
    release() {
      fs.rmSync(file, { force: true });
      removeIfEmpty(dir);
    },
  };
}
