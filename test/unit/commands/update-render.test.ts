import { describe, expect, it } from 'vitest';
import { answerFlags } from '../../../src/commands/update-render.ts';

describe('answerFlags: the recorded answers as flags for the generator that wrote them', () => {
  it('passes values as --flag=value and yes/no answers as a bare flag, omitted when no', () => {
    const base = { name: 'inventory', stack: 'python', kind: 'crud', port: 8001, dbPoolSize: 5, dbMaxOverflow: 5, dbPoolTimeout: 30, processes: 1, ulmUrl: 'http://ulm-backend:8000' };
    expect(answerFlags({ ...base, pgbouncer: false })).toEqual(['--stack=python', '--kind=crud', '--port=8001', '--db-pool-size=5', '--db-max-overflow=5', '--db-pool-timeout=30', '--processes=1', '--ulm-url=http://ulm-backend:8000']);
    expect(answerFlags({ ...base, pgbouncer: true })).toContain('--pgbouncer');
    // An answer the old version did not record (0.1 had no --pgbouncer) is not passed to it.
    expect(answerFlags(base).some((f) => f.startsWith('--pgbouncer'))).toBe(false);
  });
});
