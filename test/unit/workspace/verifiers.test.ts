import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Plan } from '../../../src/plan/plan.ts';
import { readEnvVar } from '../../../src/workspace/env-file.ts';
import { deleteVerifier, findVerifier, moveLegacyVerifiers, VERIFIERS_ENV_FILE, writeVerifier } from '../../../src/workspace/verifiers.ts';

const ROOT = '/ws';
const A = 'SCRAM-SHA-256$4096:YQ==$c3Q=:c2s=';
const B = 'SCRAM-SHA-256$4096:Yg==$c3Q=:c2s=';

function plan(files: Record<string, string>): Plan {
  return new Plan((f) => files[path.relative(ROOT, f)], ROOT, () => 0o600);
}
const own = path.join(ROOT, VERIFIERS_ENV_FILE);
const env = path.join(ROOT, '.env');

describe('where the verifiers live', () => {
  it('readers look in ovu-db-init/verifiers/.env first, then in the workspace .env (a 0.2 workspace)', () => {
    const p = plan({ '.env': `INV_DB_VERIFIER='${A}'\n`, [VERIFIERS_ENV_FILE]: `INV_DB_VERIFIER='${B}'\n` });
    expect(findVerifier(p.read.bind(p), ROOT, 'INV_DB_VERIFIER')).toEqual({ value: B, file: own, legacy: false });
    const old = plan({ '.env': `INV_DB_VERIFIER='${A}'\n` });
    expect(findVerifier(old.read.bind(old), ROOT, 'INV_DB_VERIFIER')).toEqual({ value: A, file: env, legacy: true });
  });

  it('a 0.2 .env loses its verifiers, with their comments, to ovu-db-init/verifiers/.env (mode 600); every other byte of .env stays', () => {
    const p = plan({
      '.env': `ULM_SERVICE_TOKEN=t\n\n# inv: SCRAM-SHA-256 verifier of INV_DB_PASSWORD (inv/.env) for ovu-db-init; it cannot log in\nINV_DB_VERIFIER='${A}'\n\n# monitoring: SCRAM-SHA-256 verifier of OVU_MONITOR_DB_PASSWORD\nOVU_MONITOR_DB_VERIFIER='${B}'\n`,
    });
    expect(moveLegacyVerifiers(p, ROOT)).toEqual(['INV_DB_VERIFIER', 'OVU_MONITOR_DB_VERIFIER']);
    expect(p.read(env)).toBe('ULM_SERVICE_TOKEN=t\n');
    const moved = p.read(own)!;
    expect(readEnvVar(moved, 'INV_DB_VERIFIER')).toBe(A);
    expect(readEnvVar(moved, 'OVU_MONITOR_DB_VERIFIER')).toBe(B);
    expect(moved).toContain('# inv: SCRAM-SHA-256 verifier of INV_DB_PASSWORD');
    expect(p.list().find((c) => c.path === own)).toMatchObject({ mode: 0o600, secret: true });
  });

  it('writing one drops its old copy; deleting the last one deletes the file', () => {
    const p = plan({ '.env': `INV_DB_VERIFIER='${A}'\n` });
    writeVerifier(p, ROOT, 'INV_DB_VERIFIER', B, 'inv: verifier', 'inv: ');
    expect(readEnvVar(p.read(env), 'INV_DB_VERIFIER')).toBeUndefined();
    expect(readEnvVar(p.read(own), 'INV_DB_VERIFIER')).toBe(B);
    deleteVerifier(p, ROOT, 'INV_DB_VERIFIER', 'inv: ');
    expect(p.read(own)).toBeUndefined();
  });
});
