import { describe, expect, it } from 'vitest';
import { launcherWords, type LauncherFs } from '../../../src/cli/launcher.ts';
import { withRunner } from '../../../src/commands/suggest.ts';

const npm = { name: 'npm' as const };
const pnpm = { name: 'pnpm' as const, major: 9 };

/** A file system of the given files (path → text); realpath is the identity. */
function fakeFs(files: Record<string, string>): LauncherFs {
  return { exists: (f) => f in files, read: (f) => files[f], realpath: (f) => f };
}

describe('launcherWords: the command that runs this CLI again, as it was started', () => {
  it('from a clone (a .git beside package.json): node and the absolute bin, whatever package manager ran it', () => {
    const fsx = fakeFs({ '/src/create-ovu-app/.git': '' });
    expect(launcherWords(npm, '/src/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['node', '/src/create-ovu-app/bin/create-ovu-app.js']);
    expect(launcherWords(pnpm, '/src/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['node', '/src/create-ovu-app/bin/create-ovu-app.js']);
  });

  it('from the registry through npm create / npx: npx create-ovu-app', () => {
    const root = '/h/.npm/_npx/0a1b2c';
    const fsx = fakeFs({ [`${root}/package.json`]: JSON.stringify({ dependencies: { 'create-ovu-app': '^0.2.0' } }) });
    expect(launcherWords(npm, `${root}/node_modules/create-ovu-app/bin/create-ovu-app.js`, fsx)).toEqual(['npx', 'create-ovu-app']);
  });

  it('from a packed tarball through npx: npx and the tarball, which is what works before the package is published', () => {
    // As npm 11 writes it: the tarball relative to the cache directory.
    const root = '/tmp/x/n/_npx/9f8e7d';
    const fsx = fakeFs({ [`${root}/package.json`]: JSON.stringify({ dependencies: { 'create-ovu-app': 'file:../../../create-ovu-app-0.2.0.tgz' } }) });
    expect(launcherWords(npm, `${root}/node_modules/create-ovu-app/bin/create-ovu-app.js`, fsx)).toEqual(['npx', '--yes', 'file:/tmp/x/create-ovu-app-0.2.0.tgz']);
  });

  it("from pnpm dlx / yarn dlx / bunx caches: the package manager's runner", () => {
    const fsx = fakeFs({});
    expect(launcherWords(pnpm, '/h/.cache/pnpm/dlx/abc/node_modules/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['pnpm', 'dlx', 'create-ovu-app']);
    expect(launcherWords({ name: 'yarn', major: 4 }, '/tmp/xfs-1234/dlx-5/node_modules/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['yarn', 'dlx', 'create-ovu-app']);
    expect(launcherWords({ name: 'bun' }, '/tmp/bunx-0-create-ovu-app@latest/node_modules/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['bunx', 'create-ovu-app']);
    // yarn 1's `yarn create` installs into its global directory.
    expect(launcherWords({ name: 'yarn', major: 1 }, '/h/.config/yarn/global/node_modules/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['yarn', 'create', 'ovu-app']);
  });

  it('from a global install: create-ovu-app; from an unpacked tarball or a project: node and the absolute bin', () => {
    const fsx = fakeFs({});
    expect(launcherWords(npm, '/usr/local/lib/node_modules/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['create-ovu-app']);
    expect(launcherWords(npm, '/tmp/package/bin/create-ovu-app.js', fsx)).toEqual(['node', '/tmp/package/bin/create-ovu-app.js']);
    expect(launcherWords(npm, '/p/node_modules/create-ovu-app/bin/create-ovu-app.js', fsx)).toEqual(['node', '/p/node_modules/create-ovu-app/bin/create-ovu-app.js']);
  });

  it("doctor's advice names the CLI as it was started", () => {
    const inv = { pm: npm, runner: ['node', '/my clone/bin/create-ovu-app.js'] };
    expect(withRunner('run `create-ovu-app provision inventory`', inv)).toBe("run `node '/my clone/bin/create-ovu-app.js' provision inventory`");
    expect(withRunner('written by create-ovu-app 0.2.0', inv)).toBe('written by create-ovu-app 0.2.0');
  });
});
