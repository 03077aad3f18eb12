/**
 * The two renders an update merges between: what a generator version writes for an app's answers,
 * into a temporary workspace that is thrown away. This version renders in this process; the
 * version recorded in the app's answers file is run as its own published package (`--base`, or
 * fetched with `npm pack`), so the base is exactly what that release wrote, bugs included.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors.ts';
import { QUESTIONS, type Answers } from '../app/questions.ts';
import { deriveNames } from '../app/names.ts';
import { readSnapshot } from '../workspace/snapshot.ts';
import { findWorkspace, readIfExists } from '../workspace/workspace.ts';
import { appBlockText } from '../workspace/init-db.ts';
import { hostPorts } from '../host/ports.ts';
import type { Toolchain } from '../stacks/stack.ts';
import { planNewApp } from './new-plan.ts';
import { generatorAt, sandboxEnv, type BaseSource } from './update-base.ts';
import { ciWorkflowPath } from '../stacks/render.ts';

const run = promisify(execFile);

/** One render of an app: its directory's files (relative, `/`-separated) and its init-db.sql block. */
export interface Rendered {
  files: Map<string, string>;
  initDbBlock: string | undefined;
  /** Where the base's generator came from (renderRecorded only). */
  source?: BaseSource;
}

/**
 * Both renders get this password, so the lines that hold it are the same in base and theirs and
 * a merge keeps the team's own (the real password never leaves their workspace).
 */
export const RENDER_PASSWORD = 'ovuUpdateRendersBaseAndTheirsWithThisOne0';

/** Where renders happen: under the system's temporary directory, removed afterwards. */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function withPassword(answers: Answers): string {
  return `${deriveNames(answers.name).passwordVar}=${RENDER_PASSWORD}\n`;
}

function walkFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? walkFiles(dir, r) : [r];
  });
}

/** What this version writes for `answers`: planned in an empty scratch workspace, never committed. */
export async function renderCurrent(answers: Answers, tools: Toolchain): Promise<Rendered> {
  const dir = scratchDir('ovu-update-theirs-');
  try {
    const ws = findWorkspace(dir, dir);
    fs.writeFileSync(ws.envFile, withPassword(answers), { mode: 0o600 });
    const snapshot = readSnapshot(ws);
    const app = await planNewApp(snapshot, { ...answers, install: false, createDb: false, migrate: false, adminUrl: undefined }, { force: false, tools, dbHost: 'localhost:5432' });
    const files = new Map<string, string>();
    let initDb: string | undefined;
    const workflow = path.join(ws.root, ciWorkflowPath(app.spec.names.slug));
    for (const c of app.plan.list()) {
      if (c.path.startsWith(app.appDir + path.sep) || c.path === workflow) files.set(path.relative(app.appDir, c.path).split(path.sep).join('/'), c.after);
      else if (c.path === ws.initDbFile) initDb = c.after;
    }
    return { files, initDbBlock: appBlockText(initDb, app.spec.names.slug) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The flags that give a generator the recorded answers (`--yes` takes defaults for nothing else that matters). */
export function answerFlags(recorded: Record<string, unknown>): string[] {
  const flags: string[] = [];
  for (const q of QUESTIONS) {
    const value = recorded[q.key];
    if (!q.saved || q.key === 'name' || value === undefined || !q.flag.startsWith('--')) continue;
    // A yes/no answer is a bare flag (`--pgbouncer`); no flag is its default, no.
    if (q.type === 'boolean') {
      if (value === true) flags.push(q.flag);
    } else flags.push(`${q.flag}=${String(value)}`);
  }
  return flags;
}

/**
 * What create-ovu-app <version> wrote for the recorded answers: that version's own CLI, run with
 * `--yes` and the answers as flags into an empty scratch workspace (no install, no database).
 */
export async function renderRecorded(opts: {
  version: string;
  recorded: Record<string, unknown>;
  answers: Answers;
  base: string | undefined;
  signal: AbortSignal;
}): Promise<Rendered> {
  const scratch = scratchDir('ovu-update-base-');
  try {
    const { bin, source } = await generatorAt(opts.version, opts.base, scratch, opts.signal);
    const ws = path.join(scratch, 'workspace');
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, '.env'), withPassword(opts.answers), { mode: 0o600 });
    const flags = answerFlags(opts.recorded);
    // A generator refuses a port some process listens on, and the app itself may be running on
    // its own: then render on a free port no template text holds, and put the app's back.
    const port = opts.answers.port;
    let stand: number | undefined;
    if ((await hostPorts([port])).inUse(port)) {
      const candidates = Array.from({ length: 50 }, (_, i) => 61_973 + i);
      const free = await hostPorts(candidates);
      stand = candidates.find((p) => !free.inUse(p));
    }
    const args = [bin, opts.answers.name, '--yes', '--workspace', ws, ...flags.map((f) => (stand !== undefined && f === `--port=${port}` ? `--port=${stand}` : f))];
    try {
      // Its own scratch directory and no secret: the old release sees nothing of the caller's.
      await run(process.execPath, args, { cwd: ws, env: sandboxEnv(scratch), signal: opts.signal, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const lines = String((err as { stderr?: string }).stderr ?? err).trim().split('\n');
      const why = lines.find((l) => l.startsWith('error:')) ?? lines.at(-1) ?? '';
      throw new UserError(`create-ovu-app ${opts.version} could not render the app's base from its recorded answers (${why.replace(/^error: /, '')}): pass --base with that version's package, or fix ${deriveNames(opts.answers.name).slug}/.ovu-app.json.`);
    }
    const slug = deriveNames(opts.answers.name).slug;
    const appDir = path.join(ws, slug);
    const put = (text: string): string => (stand === undefined ? text : text.split(String(stand)).join(String(port)));
    const files = new Map<string, string>();
    for (const rel of walkFiles(appDir)) files.set(rel, put(fs.readFileSync(path.join(appDir, rel), 'utf8')));
    // The app's CI workflow, at the workspace root (versions that write one).
    const workflow = path.join(ws, ciWorkflowPath(slug));
    if (fs.existsSync(workflow)) files.set(`../${ciWorkflowPath(slug)}`, put(fs.readFileSync(workflow, 'utf8')));
    const block = appBlockText(readIfExists(path.join(ws, 'init-db.sql')), slug);
    return { files, initDbBlock: block === undefined ? undefined : put(block), source };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
