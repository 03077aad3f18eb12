/**
 * Check 8 of the workspace audit: the verifier init-db.sql creates an app's role from is its
 * password's, and it is where only ovu-db-init reads it (ovu-db-init/verifiers/.env), not in the
 * workspace .env that every `env_file: .env` service loads.
 */
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import { scramVerifier, verifierMatches } from '../database/scram.ts';
import { APPS_COMPOSE_FILE } from '../workspace/compose/index.ts';
import { findVerifier, VERIFIERS_ENV_FILE, writeVerifier } from '../workspace/verifiers.ts';
import { failed, ok, warning, type DoctorCheck } from './check.ts';

export function verifierCheck(id: string, root: string, read: (file: string) => string | undefined, dir: string, names: AppSpec['names'], password: string): DoctorCheck {
  const home = findVerifier(read, root, names.verifierVar);
  const verifier = home?.value;
  const where = VERIFIERS_ENV_FILE;
  const comment = `${dir}: SCRAM-SHA-256 verifier of ${names.passwordVar} (${dir}/.env) for ovu-db-init; it cannot log in`;
  if (verifier === undefined || !verifierMatches(password, verifier)) {
    const label = `${verifier === undefined ? 'add' : 'replace'} ${names.verifierVar} in ${where} (the SCRAM-SHA-256 verifier of ${names.passwordVar}, which init-db.sql reads)`;
    const message = verifier === undefined ? `${names.verifierVar} is not in ${where}: ovu-db-init cannot create ${names.user}` : `${names.verifierVar} in ${path.relative(root, home!.file).split(path.sep).join('/')} is not the verifier of ${names.passwordVar}`;
    return failed(id, message, `doctor --fix: ${label}`, { kind: 'files', label, stage: (plan) => writeVerifier(plan, root, names.verifierVar, scramVerifier(password), comment, `${dir}: `) });
  }
  if (!home!.legacy) return ok(id, `${names.verifierVar} in ${where} is the verifier of ${names.passwordVar}`);
  // A warning, not a failure: ovu-db-init still gets it, but so does every `env_file: .env` service.
  const message = `${names.verifierVar} is in the workspace .env, which every service with \`env_file: .env\` loads`;
  // An apps.compose.yaml made before 0.4 passes ovu-db-init the .env value: moving it first would leave
  // ovu-db-init without it. Writing apps.compose.yaml again (new, update, remove) moves it too.
  if (!(read(path.join(root, APPS_COMPOSE_FILE)) ?? '').includes(VERIFIERS_ENV_FILE)) {
    return warning(id, message, `run \`create-ovu-app update ${dir}\`: it writes ${APPS_COMPOSE_FILE} again (ovu-db-init then reads ${where}) and moves the verifiers there`);
  }
  const label = `move ${names.verifierVar} from .env to ${where} (only ovu-db-init reads that one)`;
  return warning(id, message, `doctor --fix: ${label}`, { kind: 'files', label, stage: (plan) => writeVerifier(plan, root, names.verifierVar, verifier, comment, `${dir}: `) });
}
