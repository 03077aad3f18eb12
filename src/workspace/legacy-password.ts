/**
 * Moving an app's password out of the workspace .env, where create-ovu-app 0.1 kept it, into the
 * app's own `<app>/.env` (app-env.ts says why), with its placeholder from the workspace
 * .env.example into `<app>/.env.example`.
 */
import type { AppNames } from '../app/spec.ts';
import type { Plan } from '../plan/plan.ts';
import { appEnvFiles } from './app-env.ts';
import { ensureEnvVar, readEnvVar, setEnvVar } from './env-file.ts';
import type { Workspace } from './workspace.ts';

const ASSIGNS = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/**
 * `source` without its assignments of `key`, and without the comment line create-ovu-app wrote
 * right above one (`# <slug>: password of …`); every other line is kept as it was.
 */
export function removeEnvVar(source: string | undefined, key: string, ownComment?: string): string | undefined {
  if (source === undefined) return undefined;
  const lines = source.split(/(?<=\n)/);
  const gone = new Set<number>();
  const blank = (i: number): boolean => i < 0 || i >= lines.length || lines[i]!.trim() === '';
  lines.forEach((line, i) => {
    if (ASSIGNS.exec(line)?.[1] !== key) return;
    let first = i;
    if (ownComment && i > 0 && lines[i - 1]!.trim().startsWith(`# ${ownComment}`)) first = i - 1;
    for (let j = first; j <= i; j += 1) gone.add(j);
    // The blank line that kept the entry apart goes with it, so no two blank lines are left behind.
    let before = first - 1;
    while (before >= 0 && gone.has(before)) before -= 1;
    if ((before < 0 || blank(before)) && i + 1 < lines.length && blank(i + 1)) gone.add(i + 1);
  });
  return lines.filter((_, i) => !gone.has(i)).join('');
}

/** Stages the move on `plan`; the app's .env is written with mode 0600. */
export function stagePasswordMove(plan: Plan, ws: Workspace, names: Pick<AppNames, 'slug' | 'user' | 'passwordVar'>): void {
  const own = appEnvFiles(ws.root, names.slug);
  const value = readEnvVar(plan.read(ws.envFile), names.passwordVar);
  if (value === undefined) return;
  const comment = `${names.slug}: password of ${names.user}`;
  if (readEnvVar(plan.read(own.env), names.passwordVar) === undefined) {
    plan.write(own.env, setEnvVar(plan.read(own.env), names.passwordVar, value, `${comment} (compose passes it to the app)`), { mode: 0o600, secret: true });
  }
  plan.write(ws.envFile, removeEnvVar(plan.read(ws.envFile), names.passwordVar, comment)!, { mode: 0o600, secret: true });
  plan.write(own.example, ensureEnvVar(plan.read(own.example), names.passwordVar, 'change-me', comment));
  const example = plan.read(ws.envExampleFile);
  if (readEnvVar(example, names.passwordVar) !== undefined) plan.write(ws.envExampleFile, removeEnvVar(example, names.passwordVar, comment)!);
}
