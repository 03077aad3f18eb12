/**
 * Where the roles' SCRAM-SHA-256 verifiers (`<APP>_DB_VERIFIER`, OVU_MONITOR_DB_VERIFIER) live:
 * ovu-db-init/verifiers/.env, which only ovu-db-init loads (its env_file), mode 600 and ignored by
 * git's `.env` line. The workspace .env reaches every `env_file: .env` service, so they are kept
 * out of it; a workspace made before 0.4 still has them there, so readers look here first and then in .env,
 * and writers move them (doctor --fix, and every command that rewrites apps.compose.yaml).
 */
import path from 'node:path';
import type { Plan } from '../plan/plan.ts';
import { envKeyOf, readEnvVar, removeEnvVar, setEnvVar } from './env-file.ts';

export const VERIFIERS_ENV_FILE = 'ovu-db-init/verifiers/.env';

const HEADER = [
  '# ovu-db-init/verifiers/.env: written by create-ovu-app. The SCRAM-SHA-256 verifiers init-db.sql',
  '# creates the roles from, for ovu-db-init only (its env_file). Keep it out of git (".env" line).',
  '',
].join('\n');

type Read = (file: string) => string | undefined;

/** A role's verifier variable, as new writes it (`<APP>_DB_VERIFIER`). */
const VERIFIER_VAR = /^[A-Z][A-Z0-9_]*_DB_VERIFIER$/;

/** A verifier and the file it is in: the verifiers file first, then (a workspace made before 0.4) the root .env. */
export function findVerifier(read: Read, root: string, name: string): { value: string; file: string; legacy: boolean } | undefined {
  const own = path.join(root, VERIFIERS_ENV_FILE);
  const value = readEnvVar(read(own), name);
  if (value !== undefined) return { value, file: own, legacy: false };
  const envFile = path.join(root, '.env');
  const old = readEnvVar(read(envFile), name);
  return old === undefined ? undefined : { value: old, file: envFile, legacy: true };
}

export function readVerifier(read: Read, root: string, name: string): string | undefined {
  return findVerifier(read, root, name)?.value;
}

/** The workspace .env without `name` (and the comment create-ovu-app wrote above it). */
function dropFromRootEnv(plan: Pick<Plan, 'read' | 'write'>, root: string, name: string, commentPrefix: string): void {
  const envFile = path.join(root, '.env');
  const before = plan.read(envFile);
  if (readEnvVar(before, name) === undefined) return;
  plan.write(envFile, removeEnvVar(before, name, commentPrefix) ?? '', { mode: 0o600, secret: true });
}

/** The verifiers file's text with `name` set (the file is made, with its header, when missing). */
export function setVerifierText(text: string | undefined, name: string, value: string, comment: string): string {
  const before = text ?? HEADER;
  return readEnvVar(before, name) === value ? before : setEnvVar(before, name, value, comment);
}

/** The verifiers file's text without `name`; undefined (no file) when no verifier is left in it. */
export function removeVerifierText(text: string | undefined, name: string, commentPrefix: string): string | undefined {
  const after = removeEnvVar(text, name, commentPrefix);
  return after !== undefined && after.split(/\r?\n/).some((line) => envKeyOf(line) !== undefined) ? after : undefined;
}

/** Sets `name` in the verifiers file and drops a copy made before 0.4 from the workspace .env. */
export function writeVerifier(plan: Pick<Plan, 'read' | 'write'>, root: string, name: string, value: string, comment: string, commentPrefix: string): void {
  const file = path.join(root, VERIFIERS_ENV_FILE);
  const before = plan.read(file);
  const after = setVerifierText(before, name, value, comment);
  if (after !== before) plan.write(file, after, { mode: 0o600, secret: true });
  dropFromRootEnv(plan, root, name, commentPrefix);
}

/** Removes `name` from both places; the verifiers file goes when it holds no verifier any more. */
export function deleteVerifier(plan: Pick<Plan, 'read' | 'write' | 'remove'>, root: string, name: string, commentPrefix: string): void {
  const file = path.join(root, VERIFIERS_ENV_FILE);
  const before = plan.read(file);
  if (readEnvVar(before, name) !== undefined) {
    const after = removeVerifierText(before, name, commentPrefix);
    if (after !== undefined) plan.write(file, after, { mode: 0o600, secret: true });
    else plan.remove(file);
  }
  dropFromRootEnv(plan, root, name, commentPrefix);
}

/** The verifiers a workspace made before 0.4 keeps in its .env, each with the comment create-ovu-app wrote above it. */
export function legacyVerifiers(envText: string | undefined): { name: string; comment: string | undefined }[] {
  const lines = (envText ?? '').split(/\r?\n/);
  const out: { name: string; comment: string | undefined }[] = [];
  lines.forEach((line, i) => {
    const name = envKeyOf(line);
    if (name === undefined || !VERIFIER_VAR.test(name) || out.some((o) => o.name === name)) return;
    const above = i > 0 ? lines[i - 1]! : '';
    out.push({ name, comment: above.startsWith('# ') && above.includes('verifier') ? above.slice(2) : undefined });
  });
  return out;
}

/** Moves every verifier still in the workspace .env (a workspace made before 0.4) into the verifiers file, in `plan`. */
export function moveLegacyVerifiers(plan: Pick<Plan, 'read' | 'write'>, root: string): string[] {
  const moved: string[] = [];
  for (const v of legacyVerifiers(plan.read(path.join(root, '.env')))) {
    const found = findVerifier(plan.read.bind(plan), root, v.name);
    if (!found) continue;
    const comment = v.comment ?? `SCRAM-SHA-256 verifier for ovu-db-init (${v.name}); it cannot log in`;
    if (found.legacy) writeVerifier(plan, root, v.name, found.value, comment, comment);
    else dropFromRootEnv(plan, root, v.name, comment);
    moved.push(v.name);
  }
  return moved;
}
