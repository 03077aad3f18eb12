import type { Kind, Stack } from '../app/spec.ts';
import type { PackageManager } from './package-managers.ts';

/** How a command runs: a program and its arguments, in the app's backend directory. */
export type Command = [program: string, ...args: string[]];

/**
 * The tools of this run: the package manager that started it, and each stack's own tool found
 * once per run, by the name the stack gives it (`python`: uv or pip; see StackDef.tool).
 */
export interface Toolchain {
  pm: PackageManager;
  [tool: string]: unknown;
}

/** Where a migration stands, in one sentence. */
export interface MigrationState {
  /** At the newest migration the files have. */
  atHead: boolean;
  /** What is wrong, or where it stands, in one sentence. */
  message: string;
}

/** A query as the app's login: its rows, or undefined when the table does not exist (nothing has run). */
export type MigrationQuery = <T>(sql: string) => Promise<T[] | undefined>;

/** One install command; `skip` tells a step that is already done. */
export interface InstallStep {
  command: Command;
  skip?: (backendDir: string) => boolean;
}

/**
 * Everything that differs between backend stacks, in one place: a stack is a folder
 * src/stacks/<id>/ exporting one of these, a row in src/stacks/index.ts, and its templates
 * (templates/<id>/{common,crud,readonly} for the stacks the package ships).
 */
export interface StackDef {
  id: Stack;
  /** For the stack question. */
  label: string;
  /**
   * Where its templates are: a directory under templates/ (a stack of the package), or an
   * absolute path (a stack the tests add). Its layers are `common`, then the app's kind.
   */
  templates: string;
  /**
   * The template of the app's CI workflow (under templates/, rendered with the app's values and its
   * kind's partials), written to `.github/workflows/<app>.yml` at the workspace root: GitHub reads
   * workflows only there. None: the app gets no workflow.
   */
  ciWorkflow?: string;
  /** A tool this stack installs with beyond the package manager, found once per run into Toolchain[name]. */
  tool?: { name: string; find(env: NodeJS.ProcessEnv): unknown };
  /** Its migrations: where the app keeps them (relative to backend/), and where a database stands. */
  migrations: { dir: string; state(query: MigrationQuery, dir: string, where: string): Promise<MigrationState> };
  /** What its DATABASE_URL gets when the app reaches its database through PgBouncer (Prisma reads ?pgbouncer=true). */
  pgbouncerUrlQuery: string;
  /** What installs the app's dependencies, with the run's tools. */
  install(tools: Toolchain): InstallStep[];
  /** Whether the app's dependencies are installed (so that it can be migrated and tested). */
  installed(backendDir: string): boolean;
  /** The command that applies the app's migrations with DATABASE_URL set, as shown and as run. */
  migrate: {
    shown: string;
    command: (backendDir: string) => Command;
    /** The same, inside the app's image (its working directory), as the Kubernetes migration Job runs it. */
    inImage: Command;
  };
  /** The uid of the image's non-root USER (its Dockerfile's), for a pod's securityContext: runAsNonRoot needs a number. */
  imageUid: number;
  /** Next-step commands, as a person types them in the backend directory. */
  migrateHint(tools: Toolchain): string;
  testHint(tools: Toolchain): string;
  /** Runs the app on the machine on its host port, in the backend directory (settings from backend/.env). */
  runHint(tools: Toolchain, port: number): string;
  /** Where the running app describes its API. */
  docsPath: string;
  /** The command that asks the running app whether it is ready (`/health/ready`), in the container. */
  readyCheck(port: number): string[];
  /** Lines of the app's own backend/.env that only this stack needs. */
  localEnv(port: number): string[];
}

/** Template layers, later ones winning on the same path. */
export function stackLayers(stack: StackDef, kind: Kind): string[] {
  return [`${stack.templates}/common`, `${stack.templates}/${kind}`];
}

/** A command as a person would type it in a POSIX shell. */
export function shellWords(command: readonly string[]): string {
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
