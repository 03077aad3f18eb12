// The app's block of init-db.sql as update reads and writes it: only its lines change.
import { describe, expect, it } from 'vitest';
import { appBlockText, editInitDb, initDbBlock, replaceAppBlock } from '../../../src/workspace/init-db.ts';
import { specFromAnswers } from '../../../src/app/spec.ts';
import type { Answers } from '../../../src/app/questions.ts';

const spec = (name: string) =>
  specFromAnswers({ name, stack: 'python', kind: 'crud', port: 8001, dbPoolSize: 5, dbMaxOverflow: 5, dbPoolTimeout: 30, processes: 1, ulmUrl: 'http://ulm-backend:8000', install: false, createDb: false, adminUrl: undefined, migrate: false } as Answers);

describe("init-db.sql's app block for update", () => {
  const file = editInitDb(editInitDb('-- the team\'s own line\r\n', spec('inventory'), { force: false }).text, spec('orders'), { force: false }).text;

  it('reads the block as generated, markers included, whatever the line endings', () => {
    expect(appBlockText(file, 'inventory')).toBe(initDbBlock(spec('inventory')));
    expect(appBlockText(file, 'nosuch')).toBeUndefined();
    expect(appBlockText(undefined, 'inventory')).toBeUndefined();
  });

  it('replaces only that block, in the file\'s line endings', () => {
    const block = initDbBlock(spec('inventory')).replace('-- Safe to run again', '-- (ours) Safe to run again');
    const out = replaceAppBlock(file, 'inventory', block);
    expect(appBlockText(out, 'inventory')).toBe(block);
    expect(appBlockText(out, 'orders')).toBe(appBlockText(file, 'orders'));
    expect(out.replace('-- (ours) Safe to run again', '-- Safe to run again')).toBe(file);
    expect(file).not.toMatch(/(?<!\r)\n/);
    expect(out).not.toMatch(/(?<!\r)\n/);
  });

  it('refuses a merge that broke the markers', () => {
    expect(() => replaceAppBlock(file, 'inventory', '-- >>> create-ovu-app: inventory\n-- no end')).toThrow(/no end marker/);
  });
});
