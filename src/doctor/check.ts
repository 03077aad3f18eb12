/** One finding of `create-ovu-app doctor`, and what its --fix would do about it. */
import type { Plan } from '../plan/plan.ts';

/**
 * `warning`: not as it should be, but the run still holds (a legacy layout, a database only its
 * owner can close). `skipped`: not run, e.g. no server could be reached: never a pass.
 */
export type CheckStatus = 'ok' | 'warning' | 'failed' | 'skipped';

/** What --fix does about one check: file changes staged on the plan, or SQL the admin runs. */
export type Repair =
  | { kind: 'files'; label: string; stage(plan: Plan): void }
  | { kind: 'sql'; label: string; sql: string; /** Changes a database this workspace's apps do not own: only with consent. */ serverWide?: boolean };

export interface DoctorCheck {
  /** Stable, e.g. `app.inventory.env-password`, `server.public.postgres`. */
  id: string;
  status: CheckStatus;
  /** What holds, or what is wrong; never a secret. */
  message: string;
  /** What to do about it, when it is not ok. */
  fix?: string;
  /** Set when --fix can do that itself (only the safe fixes). */
  repair?: Repair;
}

export const ok = (id: string, message: string): DoctorCheck => ({ id, status: 'ok', message });
export const failed = (id: string, message: string, fix?: string, repair?: Repair): DoctorCheck => ({
  id,
  status: 'failed',
  message,
  ...(fix ? { fix } : {}),
  ...(repair ? { repair } : {}),
});
export const warning = (id: string, message: string, fix?: string, repair?: Repair): DoctorCheck => ({ ...failed(id, message, fix, repair), status: 'warning' });
export const skipped = (id: string, message: string): DoctorCheck => ({ id, status: 'skipped', message });

/** The run holds: nothing failed and nothing was left unchecked. */
export const allHold = (checks: DoctorCheck[]): boolean => checks.every((c) => c.status === 'ok' || c.status === 'warning');
