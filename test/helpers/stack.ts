/**
 * What the stack contract (test/e2e/stack-contract.test.ts) needs from a generated app's stack:
 * only what really differs between stacks (how to select it, run its tests, start its server,
 * look into its packages and settings), plus its own checks. Entries: test/e2e/stacks/*.ts.
 */
import type { Result, ResultPromise } from 'execa';

/** The app's own test run, in one shape for every stack's runner. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** One generated app, as the contract made it; `databaseUrl` is filled in once it is generated. */
export interface GeneratedApp {
  /** The workspace (with the ADR's compose file) the app was generated into. */
  ws: string;
  slug: string;
  backend: string;
  /** The admin URL of the suite's PostgreSQL. */
  adminUrl: string;
  /** DATABASE_URL from the app's backend/.env (crud apps). */
  databaseUrl: string;
}

/** A check only one stack has; it runs in the stack's describe, in the listed order. */
export interface StackCheck {
  name: string;
  run(app: GeneratedApp): Promise<void>;
}

export interface Stack {
  name: 'python' | 'typescript';
  /** Added to the CLI's arguments to pick this stack. */
  cliArgs: string[];
  /** Slugs of the crud and the readonly app (distinct per stack: they share one PostgreSQL). */
  crudSlug: string;
  readonlySlug: string;
  /** The migration command the CLI names in its "Running the first migration (...)" step. */
  migrateCommand: string;
  /** A path in backend/ that only exists once the crud app's dependencies are installed. */
  installedMarker: string;
  /** The folder of the app's own sources, under backend/. */
  sourceDir: string;
  /** The OpenAPI path of one item: each framework spells the path parameter its own way. */
  itemRoute: string;
  /** Runs the app's own unit (or integration: crud only) tests; must fail on a failing run. */
  ownTests(backend: string, suite: 'unit' | 'integration'): Promise<Counts>;
  /** The database drivers, ORMs and migrators the app's installed packages provide. */
  databasePackages(backend: string): Promise<string[]>;
  /** The names of the settings the app's config knows. */
  settingNames(backend: string): Promise<string[]>;
  /** Starts the server on 127.0.0.1:port; `env` is all it gets besides PATH and HOME. */
  start(backend: string, port: number, env: NodeJS.ProcessEnv): ResultPromise;
  /** How a server that shut down gracefully on SIGTERM ended: by exiting, or by the signal re-raised. */
  stoppedBy: 'exit' | 'SIGTERM';
  /** What a graceful shutdown writes to the server's output, last. */
  shutdownLog: RegExp;
  /** This stack's own checks, run after generation and before the app's tests and boot. */
  crudChecks: StackCheck[];
  readonlyChecks: StackCheck[];
}

/** Env for running the app's tools: only what the app's own .env does not set. */
export const appEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra });

/** How a stopped server's process ended, in the terms of `Stack.stoppedBy`. */
export const endedBy = (r: Result): string => r.signal ?? (r.exitCode === 0 ? 'exit' : `exit code ${r.exitCode}`);
