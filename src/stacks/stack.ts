import type { Kind, Stack } from '../app/spec.ts';
import type { PackageManager } from './package-managers.ts';
import type { PythonInstaller } from './python-installer.ts';

/** How a command runs: a program and its arguments, in the app's backend directory. */
export type Command = [program: string, ...args: string[]];

/** The tools of this run: the package manager that started it, and uv or pip for Python. */
export interface Toolchain {
  pm: PackageManager;
  python: PythonInstaller;
}

/** One install command; `skip` tells a step that is already done. */
export interface InstallStep {
  command: Command;
  skip?: (backendDir: string) => boolean;
}

/**
 * Everything that differs between backend stacks, in one place. A third stack is one more
 * module like python.ts beside this file, one more row in stacks/index.ts, and its templates
 * under templates/<id>/{common,crud,readonly}.
 */
export interface StackDef {
  id: Stack;
  /** For the stack question. */
  label: string;
  /** Template layers, later ones winning on the same path. */
  layers(kind: Kind): string[];
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

/** A command as a person would type it in a POSIX shell. */
export function shellWords(command: readonly string[]): string {
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
