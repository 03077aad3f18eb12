/**
 * The JavaScript package managers a user may have started us with (`npm create`, `pnpm create`,
 * `yarn create`, `bun create`): how each runs this CLI again, installs, and runs a script. The
 * one that started us says so in npm_config_user_agent ("pnpm/9.12.0 npm/? node/v20.17.0 …").
 */
import type { Command } from './stack.ts';

export const PACKAGE_MANAGERS = ['npm', 'pnpm', 'yarn', 'bun'] as const;
export type PackageManagerName = (typeof PACKAGE_MANAGERS)[number];

export interface PackageManager {
  name: PackageManagerName;
  /** The major version, when the user agent said it (yarn 1 and yarn 2+ differ). */
  major?: number;
}

/** The package manager npm_config_user_agent names; npm when it names none we know. */
export function detectPackageManager(userAgent: string | undefined): PackageManager {
  const m = /^(npm|pnpm|yarn|bun)\/(\d+)/.exec(userAgent?.trim() ?? '');
  if (!m) return { name: 'npm' };
  return { name: m[1] as PackageManagerName, major: Number(m[2]) };
}

/** How a person runs this CLI with it: `npx create-ovu-app`, `pnpm dlx create-ovu-app`… */
export function runnerWords(pm: PackageManager): string[] {
  switch (pm.name) {
    case 'npm':
      return ['npx', 'create-ovu-app'];
    case 'pnpm':
      return ['pnpm', 'dlx', 'create-ovu-app'];
    case 'yarn':
      // Yarn 1 has no dlx; its `yarn create` runs create-<name> with the arguments that follow.
      return pm.major === 1 ? ['yarn', 'create', 'ovu-app'] : ['yarn', 'dlx', 'create-ovu-app'];
    case 'bun':
      return ['bunx', 'create-ovu-app'];
  }
}

/** Installs a project's dependencies. */
export function installCommand(pm: PackageManager): Command {
  // npm's audit and funding notes are noise in a scaffolder's output; the others have none by default.
  return pm.name === 'npm' ? ['npm', 'install', '--no-audit', '--no-fund'] : [pm.name, 'install'];
}

/** Runs a package.json script: `npm test`, `pnpm run migrate`, `bun run test`… */
export function runScript(pm: PackageManager, script: string): string {
  // `bun test` is bun's own test runner, not the script; `npm test` is the one shorthand npm has.
  if (script === 'test' && pm.name !== 'bun') return `${pm.name} test`;
  return `${pm.name} run ${script}`;
}
