/**
 * The commands messages tell a person to run: complete and copy-pasteable, with the runner they
 * started us with (`npx`, `pnpm dlx`…) and the --workspace and --admin-url they gave.
 */
import { runnerWords, type PackageManager } from '../stacks/package-managers.ts';
import { shellWords } from '../stacks/stack.ts';

/** How this run was started, as far as a command to run next must repeat it. */
export interface Invocation {
  pm: PackageManager;
  /** The words that run this CLI again as it was started (cli/launcher.ts); default: the package manager's runner. */
  runner?: string[];
  /** --workspace as given (relative to the directory the user is in). */
  workspace?: string | undefined;
  /** --admin-url as given; repeated without its password. */
  adminUrl?: string | undefined;
}

export interface SuggestOptions {
  /** The --workspace to pass: a path (from where the command will run), or null for none. Default: the one given. */
  workspace?: string | null;
  /** Repeat --admin-url (provision and --create-db runs). */
  adminUrl?: boolean;
  /** A shell comment after the command, saying what it does. */
  comment?: string;
}

/** `npx create-ovu-app provision inventory --migrate --workspace ../ws --admin-url …`. */
export function suggestCommand(inv: Invocation, argv: string[], opts: SuggestOptions = {}): string {
  const words = [...(inv.runner ?? runnerWords(inv.pm)), ...argv];
  const workspace = opts.workspace === undefined ? inv.workspace : opts.workspace;
  if (workspace !== null && workspace !== undefined && workspace !== '') words.push('--workspace', workspace);
  const notes = opts.comment ? [opts.comment] : [];
  if (opts.adminUrl && inv.adminUrl) {
    const { url, hadPassword } = withoutPassword(inv.adminUrl);
    words.push('--admin-url', url);
    // node-postgres reads a password the URL leaves out from PGPASSWORD.
    if (hadPassword) notes.push('with PGPASSWORD set: the password is not repeated here');
  }
  return shellWords(words) + (notes.length ? `   # ${notes.join('; ')}` : '');
}

/** Advice written as `create-ovu-app …` (doctor's fix lines), with the words that run this CLI as it was started. */
export function withRunner(text: string, inv: Invocation): string {
  const runner = shellWords(inv.runner ?? runnerWords(inv.pm));
  return text.replace(/`create-ovu-app (?=[a-z<-])/g, `\`${runner} `);
}

function withoutPassword(adminUrl: string): { url: string; hadPassword: boolean } {
  try {
    const u = new URL(adminUrl);
    const hadPassword = Boolean(u.password) || u.searchParams.has('password');
    u.password = '';
    u.searchParams.delete('password');
    return { url: u.toString(), hadPassword };
  } catch {
    return { url: adminUrl, hadPassword: false };
  }
}
