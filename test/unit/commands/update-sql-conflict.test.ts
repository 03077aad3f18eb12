// update never writes conflict markers into SQL that runs: an app's migration.sql keeps the team's
// text and the conflict goes beside it (init-db.sql's block is checked end to end in update-trust).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Plan } from '../../../src/plan/plan.ts';
import { mergeInto } from '../../../src/commands/update.ts';
import type { Rendered } from '../../../src/commands/update-render.ts';

const root = path.resolve('/nonexistent-ovu-ws');
const appDir = path.join(root, 'app');
const rendered = (files: Record<string, string>): Rendered => ({ files: new Map(Object.entries(files)), initDbBlock: undefined });
const SQL = 'prisma/migrations/1_init/migration.sql';

describe("update's merge of a .sql file", () => {
  it('leaves a conflicting .sql file as the team has it and writes the conflict to <file>.conflict', () => {
    const ours = { [SQL]: 'CREATE TABLE items (id int, team text);\n', 'notes.md': 'TEAM\n' };
    const disk = new Map(Object.entries(ours).map(([p, t]) => [path.join(appDir, p), t]));
    const plan = new Plan((f) => disk.get(path.resolve(f)), root);
    const out = mergeInto(plan, appDir, rendered({ [SQL]: 'CREATE TABLE items (id int);\n', 'notes.md': 'x\n' }), rendered({ [SQL]: 'CREATE TABLE items (id bigint);\n', 'notes.md': 'y\n' }), undefined, '9.9.9');
    expect(plan.read(path.join(appDir, SQL))).toBe(ours[SQL]);
    expect(plan.list().map((c) => path.relative(appDir, c.path)).sort()).toEqual(['notes.md', `${SQL}.conflict`]);
    expect(plan.read(path.join(appDir, `${SQL}.conflict`))).toMatch(/^<<<<<<< yours\n/);
    // Any other file keeps its markers in place, as git would.
    expect(plan.read(path.join(appDir, 'notes.md'))).toMatch(/^<<<<<<< yours\n/);
    expect(out.files).toEqual([
      { path: 'notes.md', action: 'conflict' },
      { path: `${SQL}.conflict`, action: 'conflict' },
    ]);
  });
});
