import { expect, it } from 'vitest';

// .ci/run sets OVU_CANARY_FAIL=1 and expects this run to fail: proof that a failing test still
// fails the suite with the embedded PostgreSQL global setup loaded (its exit hook once turned
// failures into exit code 0).
it('fails only when asked to', () => {
  expect(process.env.OVU_CANARY_FAIL).toBeUndefined();
});
