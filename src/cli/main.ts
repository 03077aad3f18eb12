// The entry point. --help and --version load only the argument parser and the command registry;
// anything else is a run (session.ts), loaded then, so `--help` costs little more than starting node.
import { parseCliArgs, helpText, type ParsedArgs } from './args.ts';
import { detectPackageManager, type PackageManager } from '../stacks/package-managers.ts';
import { launcherWords } from './launcher.ts';
import { shellWords } from '../stacks/stack.ts';
import { VERSION } from '../version.ts';

export const isCI = (): boolean => ['1', 'true'].includes(String(process.env.CI ?? '').toLowerCase());

/** `create-ovu-app … | head` closes stdout early: that ends the output, it is not a crash. */
export function ignoreEpipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
}

/** --package-manager, else the one that ran us (`pnpm create ovu-app` says so in npm_config_user_agent). */
export function packageManager(args: ParsedArgs | undefined): PackageManager {
  const detected = detectPackageManager(process.env.npm_config_user_agent);
  if (!args?.packageManager) return detected;
  return args.packageManager === detected.name ? detected : { name: args.packageManager };
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs | undefined;
  try {
    args = parseCliArgs(argv, { runner: shellWords(launcherWords(packageManager(undefined), process.argv[1])) });
  } catch {
    // A usage error: the session says it, as it says every error.
  }
  if (args?.help || args?.version) {
    if (!process.stdout.listeners('error').includes(ignoreEpipe)) process.stdout.on('error', ignoreEpipe);
    process.stdout.write((args.help ? helpText(args.command, shellWords(launcherWords(packageManager(args), process.argv[1]))) : VERSION) + '\n');
    return 0;
  }
  const { session } = await import('./session.ts');
  return session(argv);
}
