import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'create-ovu-app.js');
/** How the CLI names itself in the commands it prints when run from this clone (src/cli/launcher.ts). */
export const RUNNER = `node ${BIN}`;
/** RUNNER inside a regular expression. */
export const RUNNER_RE = RUNNER.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Runs the built CLI as a user would: a subprocess, no TTY, CI=true unless overridden. */
export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; node?: string; timeout?: number } = {},
): Promise<CliResult> {
  // OVU_TEST_NODE: run the CLI on another Node.js (.ci/run does 22 and 24).
  const r = await execa(opts.node ?? process.env.OVU_TEST_NODE ?? process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    // No package manager started it unless a test says so (under `npx vitest` npm would have).
    env: { CI: 'true', NO_COLOR: '1', npm_config_user_agent: '', ...opts.env },
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeout ?? 60_000,
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * Runs the CLI's main() in this process, as CI would (no prompts), with its stdout muted:
 * for tests that compare its output files with another way of producing them.
 */
export async function runMainInProcess(argv: string[]): Promise<number> {
  const { main } = await import('../../src/cli/main.ts');
  const previous = process.env.CI;
  const write = process.stdout.write;
  process.env.CI = 'true';
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await main(argv);
  } finally {
    process.stdout.write = write;
    if (previous === undefined) delete process.env.CI;
    else process.env.CI = previous;
  }
}

/** A fresh directory, inside the run's scratch folder when the global setup made one. */
export function tempDir(prefix = 'ovu-ws-'): string {
  return fs.mkdtempSync(path.join(process.env.OVU_TEST_TMP ?? os.tmpdir(), prefix));
}

/** Every file under `dir` with its bytes (as base64) and mode: compare two to prove nothing changed. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        out[r + '/'] = 'dir';
        walk(r);
      } else {
        const abs = path.join(dir, r);
        out[r] = `${(fs.statSync(abs).mode & 0o777).toString(8)}:${fs.readFileSync(abs).toString('base64')}`;
      }
    }
  };
  walk('');
  return out;
}

/**
 * A directory of stand-in programs for PATH: each appends `<name> <args…> @ <cwd>` to the log
 * and exits with `exitCode`. Returns the PATH to run with and a reader of the log.
 */
export function fakePrograms(names: string[], exitCode = 0): { PATH: string; calls: () => string[] } {
  const dir = tempDir('ovu-fake-bin-');
  const log = path.join(dir, 'calls.log');
  for (const name of names) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho "${name} $* @ $(pwd)" >> '${log}'\nexit ${exitCode}\n`, { mode: 0o755 });
  }
  return {
    PATH: `${dir}${path.delimiter}${process.env.PATH}`,
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}

/** Stand-in python3 for the install: `python3 -m venv .venv` makes .venv/bin/{python,pip}; pip prints `lines` lines over `seconds`. */
export function fakeInstaller(lines: number, seconds: number, pipExit = 0): Record<string, string> {
  const dir = tempDir('ovu-fake-python-');
  // Its pip prints like pip and, as `pip install uv` would, leaves a uv (one that does nothing).
  const pip = `#!/bin/sh\ni=0\nwhile [ $i -lt ${lines} ]; do i=$((i+1)); echo "Collecting package-$i"; sleep ${(seconds / lines).toFixed(3)}; done\nprintf '#!/bin/sh\\nexit 0\\n' > .venv/bin/uv; chmod +x .venv/bin/uv\nexit ${pipExit}\n`;
  fs.writeFileSync(
    path.join(dir, 'python3'),
    `#!/bin/sh\nmkdir -p .venv/bin\nprintf '%s' '${pip.replace(/'/g, "'\\''")}' > .venv/bin/pip\nchmod +x .venv/bin/pip\nln -sf /bin/sh .venv/bin/python\n`,
    { mode: 0o755 },
  );
  return { PATH: `${dir}:${process.env.PATH}` };
}

/** The ADR's own docker-compose.yml, as a team would have it before running the generator. */
export const ADR_COMPOSE = `version: '3.8'

services:
  postgres:
    image: postgres:15
    environment:
      POSTGRES_USER: postgres
      POSTGRES_PASSWORD: postgres
    ports:
      - "5432:5432"
    volumes:
      - postgres_data:/var/lib/postgresql/data
      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql

  ulm-backend:
    build: ./ulm/backend
    environment:
      DATABASE_URL: postgresql://ulm_user:ulm_pass@postgres:5432/ulm_db
    ports:
      - "8000:8000"
    depends_on:
      - postgres

volumes:
  postgres_data:
`;

/**
 * A workspace with the ADR's compose file (and nothing else), in a fresh temp dir. `roomy`: its
 * postgres gets `max_connections` for the dozens of apps a suite adds to one workspace (new refuses
 * an app that would not fit; a default server holds 6).
 */
export function adrWorkspace(opts: { roomy?: boolean } = {}): string {
  const dir = tempDir();
  const compose = opts.roomy ? ADR_COMPOSE.replace('    image: postgres:15\n', '    image: postgres:15\n    command: postgres -c max_connections=1000\n') : ADR_COMPOSE;
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), compose);
  return dir;
}

/** An app's database password, from its own `<app>/.env`. */
export function appPassword(ws: string, slug: string): string | undefined {
  const file = path.join(ws, slug, '.env');
  if (!fs.existsSync(file)) return undefined;
  const m = new RegExp(`^${slug.toUpperCase().replace(/-/g, '_')}_DB_PASSWORD=(.*)$`, 'm').exec(fs.readFileSync(file, 'utf8'));
  return m?.[1];
}
