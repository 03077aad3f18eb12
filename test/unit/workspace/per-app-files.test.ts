import { vol } from 'memfs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
vi.mock('node:fs', async () => {
  const memfs = await vi.importActual<typeof import('memfs')>('memfs');
  return { default: memfs.fs, ...memfs.fs };
});
import { perAppFiles } from '../../../src/workspace/per-app-files.ts';
import type { DerivedContext } from '../../../src/workspace/derived.ts';
import { appSpec } from '../../helpers/spec.ts';

const ROOT = '/ws';
const apps = ['inventory', 'orders'].map((dir) => ({ dir, spec: appSpec(dir) }));
const render = (spec: { names: { slug: string } }): string => `for ${spec.names.slug}\n`;
const ctx = (changed?: string): DerivedContext => ({
  root: ROOT,
  apps,
  read: (f) => (vol.existsSync(f) ? String(vol.readFileSync(f, 'utf8')) : undefined),
  ...(changed === undefined ? {} : { changed }),
});

describe('perAppFiles: a file per app in one directory', () => {
  beforeEach(() => {
    vol.reset();
    // On disk: inventory's file, one of an app that has gone, and a file that is not the kind's.
    vol.fromJSON({ 'd/inventory.yaml': 'old\n', 'd/gone.yaml': 'old\n', 'd/README.md': 'mine\n' }, ROOT);
  });

  it("a run that changes one app writes that app's file only", () => {
    expect(perAppFiles(ctx('orders'), apps, 'd', '.yaml', render)).toEqual([{ path: 'd/orders.yaml', text: 'for orders\n' }]);
  });

  it("a run that removes an app removes its file, and nothing when it had none", () => {
    expect(perAppFiles(ctx('gone'), apps, 'd', '.yaml', render)).toEqual([{ path: 'd/gone.yaml', text: undefined }]);
    expect(perAppFiles(ctx('never'), apps, 'd', '.yaml', render)).toEqual([]);
  });

  it("an audit, or `every`, writes every app's and removes the files of the kind no app has", () => {
    const all = [
      { path: 'd/inventory.yaml', text: 'for inventory\n' },
      { path: 'd/orders.yaml', text: 'for orders\n' },
      { path: 'd/gone.yaml', text: undefined },
    ];
    expect(perAppFiles(ctx(), apps, 'd', '.yaml', render)).toEqual(all);
    expect(perAppFiles(ctx('orders'), apps, 'd', '.yaml', render, true)).toEqual(all);
  });
});
