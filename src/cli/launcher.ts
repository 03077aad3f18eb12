/**
 * How this run was started, so that every command it prints runs as printed. `npx create-ovu-app`
 * works only once the package is in the registry: started from a clone, an unpacked tarball or a
 * project's node_modules, the command that works anywhere is `node /abs/path/bin/create-ovu-app.js`;
 * from a tarball through npx, `npx --yes file:/abs/path/create-ovu-app-x.y.z.tgz`; from the registry (npm
 * create, npx, pnpm/yarn/bun create or dlx), the package manager's own runner.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runnerWords, type PackageManager } from '../stacks/package-managers.ts';

export interface LauncherFs {
  exists(file: string): boolean;
  read(file: string): string | undefined;
  realpath(file: string): string;
}

const realFs: LauncherFs = {
  exists: (f) => fs.existsSync(f),
  read: (f) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  },
  realpath: (f) => {
    try {
      return fs.realpathSync(f);
    } catch {
      return path.resolve(f);
    }
  },
};

/** Where package managers keep a package they run for `create` (`npx`, `pnpm dlx`, `yarn dlx`, yarn 1's global dir, `bunx`). */
const EPHEMERAL = [/[/\\]_npx[/\\]/, /[/\\]dlx[/\\-]/, /[/\\]xfs-[^/\\]+[/\\]/, /[/\\]bunx-/, /[/\\]yarn[/\\]global[/\\]node_modules[/\\]/];

/** The words that run this CLI again, e.g. ['npx', 'create-ovu-app'] or ['node', '/src/create-ovu-app/bin/create-ovu-app.js']. */
export function launcherWords(pm: PackageManager, script: string | undefined, fsx: LauncherFs = realFs): string[] {
  if (!script) return runnerWords(pm);
  const bin = fsx.realpath(script);
  const pkgRoot = path.dirname(path.dirname(bin));
  // A clone of the repository (or a worktree of one): the package is not what the registry has.
  if (fsx.exists(path.join(pkgRoot, '.git'))) return ['node', bin];
  const npx = /^(.*[/\\]_npx[/\\][^/\\]+)[/\\]node_modules[/\\]create-ovu-app$/.exec(pkgRoot);
  if (npx) {
    // npx records what it was asked for: a registry spec, or a tarball's `file:` path (relative to
    // its cache directory). A bare absolute path would be run as a program: keep `file:`. npx asks
    // before installing a spec it has not cached under that name, and without a terminal it gives
    // up: --yes, for the tarball the person already ran.
    const spec = dependencySpec(fsx.read(path.join(npx[1]!, 'package.json')));
    if (spec?.startsWith('file:')) return ['npx', '--yes', `file:${path.resolve(npx[1]!, spec.slice('file:'.length))}`];
    return runnerWords(pm);
  }
  if (EPHEMERAL.some((re) => re.test(pkgRoot))) return runnerWords(pm);
  // `npm install -g create-ovu-app`: on PATH as itself.
  if (/[/\\]lib[/\\]node_modules[/\\]create-ovu-app$/.test(pkgRoot)) return ['create-ovu-app'];
  return ['node', bin];
}

function dependencySpec(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const deps = (JSON.parse(text) as { dependencies?: Record<string, string> }).dependencies;
    return deps?.['create-ovu-app'];
  } catch {
    return undefined;
  }
}
