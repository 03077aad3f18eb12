// The file-level decisions of update's merge: which of base, ours and theirs each file ends as.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Plan } from '../../../src/plan/plan.ts';
import { sha256 } from '../../../src/commands/app-files.ts';
import { compareVersions, mergeInto } from '../../../src/commands/update.ts';
import type { Rendered } from '../../../src/commands/update-render.ts';

const root = path.resolve('/nonexistent-ovu-ws');
const appDir = path.join(root, 'app');
const rendered = (files: Record<string, string>): Rendered => ({ files: new Map(Object.entries(files)), initDbBlock: undefined });

function run(base: Record<string, string>, ours: Record<string, string>, theirs: Record<string, string>, recorded?: Record<string, string>) {
  const disk = new Map(Object.entries(ours).map(([p, t]) => [path.join(appDir, p), t]));
  const plan = new Plan((f) => disk.get(path.resolve(f)), root);
  const out = mergeInto(plan, appDir, rendered(base), rendered(theirs), recorded, '9.9.9');
  const after = (p: string) => plan.read(path.join(appDir, p));
  const action = Object.fromEntries(out.files.map((f) => [f.path, f.action]));
  return { plan, out, after, action };
}

describe("update's merge of an app's files", () => {
  it('leaves every file the template did not change as the team has it, present or not', () => {
    const { plan, out } = run({ a: '1\n', b: '2\n' }, { a: 'mine\n' }, { a: '1\n', b: '2\n' });
    expect(plan.list()).toEqual([]);
    expect(plan.removed()).toEqual([]);
    expect(out.files).toEqual([]);
  });

  it("takes the template's change where the team changed nothing, and merges where both did", () => {
    const { after, action } = run(
      { plain: 'x\n', both: 'one\ntwo\nthree\nfour\n' },
      { plain: 'x\n', both: 'ONE\ntwo\nthree\nfour\n' },
      { plain: 'y\n', both: 'one\ntwo\nthree\nFOUR\n' },
    );
    expect(after('plain')).toBe('y\n');
    expect(after('both')).toBe('ONE\ntwo\nthree\nFOUR\n');
    expect(action).toEqual({ plain: 'updated', both: 'merged' });
  });

  it('writes a conflict with markers naming both sides', () => {
    const { after, action } = run({ f: 'port 1\n' }, { f: 'port 2\n' }, { f: 'port 3\n' });
    expect(after('f')).toBe('<<<<<<< yours\nport 2\n=======\nport 3\n>>>>>>> create-ovu-app 9.9.9\n');
    expect(action).toEqual({ f: 'conflict' });
  });

  it('keeps a file the team deleted deleted, and says so when the template changed it', () => {
    const { after, action, plan } = run({ gone: 'a\n', same: 's\n' }, {}, { gone: 'b\n', same: 's\n' });
    expect(after('gone')).toBeUndefined();
    expect(plan.list()).toEqual([]);
    expect(action).toEqual({ gone: 'kept-deleted' });
  });

  it('removes a file the templates dropped only when the team had not changed it', () => {
    const { plan, action } = run({ old: 'o\n', mine: 'm\n' }, { old: 'o\n', mine: 'm, changed\n' }, {});
    expect(plan.removed()).toEqual([path.join(appDir, 'old')]);
    expect(action).toEqual({ old: 'removed', mine: 'kept-changed' });
  });

  it('adds new template files, and conflicts with a file of the same path the team made', () => {
    const { after, action } = run({}, { clash: 'ours\n' }, { fresh: 'new\n', clash: 'theirs\n' });
    expect(after('fresh')).toBe('new\n');
    expect(after('clash')).toContain('<<<<<<< yours\nours\n=======\ntheirs\n>>>>>>>');
    expect(action).toEqual({ fresh: 'added', clash: 'conflict' });
  });

  it("records theirs for a file the team changed, and what it wrote for one they had not", () => {
    const { out } = run({ a: '1\n', b: '1\n', '.env': 'P=real\nX=1\n' }, { a: '1\n', b: 'mine\n', '.env': 'P=real\nX=1\n' }, { a: '2\n', b: '2\n', '.env': 'P=real\nX=2\n' });
    expect(out.record).toEqual({ a: sha256('2\n'), b: sha256('2\n'), '.env': sha256('P=real\nX=2\n') });
    // A file the renders cannot reproduce byte for byte (a stand-in secret): the old record's hash
    // says the team had not changed it, so what update writes is recorded as generated.
    const stand = run({ '.env': 'P=stand\nK=k\nX=1\n' }, { '.env': 'P=real\nK=k\nX=1\n' }, { '.env': 'P=stand\nK=k\nX=2\n' }, { '.env': sha256('P=real\nK=k\nX=1\n') });
    expect(stand.after('.env')).toBe('P=real\nK=k\nX=2\n');
    expect(stand.action).toEqual({ '.env': 'updated' });
    expect(stand.out.record).toEqual({ '.env': sha256('P=real\nK=k\nX=2\n') });
    expect(stand.plan.list()[0]!.secret).toBe(true);
  });
});

describe('compareVersions', () => {
  it('orders x.y.z numerically', () => {
    expect(compareVersions('0.10.0', '0.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0', '1.0.0')).toBe(0);
    expect(compareVersions('0.1.0', '0.2.0')).toBeLessThan(0);
  });
});
