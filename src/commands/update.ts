/**
 * `create-ovu-app update <app>`: brings an app to this version's templates the way Copier's
 * update does. The base is what the recorded version wrote for the recorded answers (rendered
 * again by that version, update-render.ts); ours is the team's files now; theirs is what this
 * version writes for the answers (changed by the answer flags given). Each file gets a line-based
 * three-way merge; where both sides changed the same lines, both are kept between git's markers
 * and the file is listed. One plan, one journaled commit, under the workspace lock.
 */
import path from 'node:path';
import { CancelledError, InterruptedError, UsageError, UserError } from '../errors.ts';
import { ANSWERS_FILE, answersFileText, parseAnswersFile, type AnswersFile } from '../app/answers-file.ts';
import { deriveNames } from '../app/names.ts';
import { specFromAnswers, type AppSpec } from '../app/spec.ts';
import { QUESTIONS, validateAnswer, type Answers } from '../app/questions.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { Plan } from '../plan/plan.ts';
import { VERSION } from '../version.ts';
import { findWorkspace, type Workspace } from '../workspace/workspace.ts';
import { appsForDerivedFiles, readSnapshot, requireReadableApps, type WorkspaceSnapshot } from '../workspace/snapshot.ts';
import { addAppToCompose } from '../workspace/compose/index.ts';
import { appBlockText, editInitDb, replaceAppBlock } from '../workspace/init-db.ts';
import { stageDbInitEnv, stageDerived } from '../workspace/derived.ts';
import { mergeText } from '../merge/three-way.ts';
import { holdWorkspace } from './open-workspace.ts';
import { sha256 } from './app-files.ts';
import { workspaceFacts } from './new-plan.ts';
import { RENDER_PASSWORD, renderCurrent, renderRecorded, type Rendered } from './update-render.ts';
import { assertRelease, type BaseSource } from './update-base.ts';
import { appEnvFiles, findAppPassword } from '../workspace/app-env.ts';
import { PASSWORD_FIX } from '../database/passwords.ts';
import { hostPorts } from '../host/ports.ts';
import { suggestCommand } from './suggest.ts';
import type { Io } from './io.ts';

/** What happened to one file, by the three versions of it. */
export type FileAction =
  /** The template changed it and the team had not: the template's. */
  | 'updated'
  /** Both changed it, in different places: both changes. */
  | 'merged'
  /** Both changed the same lines: written with conflict markers. */
  | 'conflict'
  /** New in the templates. */
  | 'added'
  /** Gone from the templates and unchanged by the team. */
  | 'removed'
  /** The team deleted it and the template changed it: left deleted. */
  | 'kept-deleted'
  /** Gone from the templates but changed by the team: kept. */
  | 'kept-changed';

export interface FileOutcome {
  /** Workspace-relative. */
  path: string;
  action: FileAction;
}

export interface UpdateResult {
  spec: AppSpec;
  root: string;
  appDir: string;
  dryRun: boolean;
  /** The version that wrote the app, and this one. */
  from: string;
  to: string;
  plan: Plan;
  /** Every file the templates touched, with what the update did (unchanged ones are left out). */
  files: FileOutcome[];
  /** Workspace-relative paths written with conflict markers. */
  conflicts: string[];
  /** Answers the update changed (`port 8001 → 8020`). */
  changedAnswers: string[];
  notes: string[];
  /** Where the base render's generator came from. */
  base: BaseSource;
}

/** The label after `>>>>>>>` in a conflict: whose side it is. */
export const theirsLabel = (version: string): string => `create-ovu-app ${version}`;
export const OURS_LABEL = 'yours';

/** Semver order of two x.y.z versions (a prerelease tag is ignored): negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split('-')[0]!.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** What can change on update: every saved answer but the app's identity. */
const FIXED = ['name', 'stack', 'kind'] as const;

interface AppRecord {
  file: AnswersFile;
  /** The answers as the file has them: the flags the recorded version knows. */
  raw: Record<string, unknown>;
  answers: Answers;
}

function readRecord(snapshot: WorkspaceSnapshot, name: string): AppRecord & { slug: string } {
  const { root } = snapshot.workspace;
  const slug = deriveNames(name).slug;
  const answersPath = path.join(root, slug, ANSWERS_FILE);
  const text = snapshot.read(answersPath);
  if (text === undefined) throw new UserError(`No app "${slug}" in ${root} (${slug}/${ANSWERS_FILE} is missing): pass the name of an app create-ovu-app generated, or --workspace.`);
  const file = parseAnswersFile(text, path.join(slug, ANSWERS_FILE));
  if (deriveNames(file.answers.name).slug !== slug) throw new UserError(`${slug}/${ANSWERS_FILE} names the app "${file.answers.name}", not "${slug}": restore it from git.`);
  const raw = (JSON.parse(text) as { answers: Record<string, unknown> }).answers;
  return { file, raw, answers: file.answers, slug };
}

/** The answers theirs renders: the recorded ones, with the flags given; the app's identity stays. */
async function newAnswers(record: AppRecord, given: Partial<Answers>, snapshot: WorkspaceSnapshot): Promise<{ answers: Answers; changed: string[] }> {
  const a = record.answers;
  for (const key of FIXED) {
    const value = given[key];
    if (key !== 'name' && value !== undefined && value !== a[key]) {
      throw new UsageError(`update cannot change an app's ${key} (${a[key]} → ${String(value)}): generate a new app with --${key} ${String(value)} and move your code into it.`);
    }
  }
  const next = { ...a } as Answers;
  const changed: string[] = [];
  const facts = workspaceFacts(snapshot, false, deriveNames(a.name).service);
  // A new port must be free on this machine too (the app's own may be in use by the app itself).
  if (given.port !== undefined && given.port !== a.port) facts.hostPorts = await hostPorts([given.port]);
  for (const q of QUESTIONS) {
    if (!q.saved || (FIXED as readonly string[]).includes(q.key)) continue;
    const value = (given as Record<string, unknown>)[q.key];
    if (value === undefined) continue;
    if (q.skip?.(next)) throw new UsageError(`${q.flag} does not apply to ${a.kind} apps: drop it.`);
    const problem = validateAnswer(q, value, next, facts);
    if (problem) throw new UsageError(problem);
    if (value !== a[q.key]) changed.push(`${q.key} ${String(a[q.key])} → ${String(value)}`);
    (next as unknown as Record<string, unknown>)[q.key] = value;
  }
  return { answers: next, changed };
}

export async function runUpdate(args: ParsedArgs, io: Io): Promise<UpdateResult> {
  const name = args.positionals[0];
  if (!name) throw new UsageError(`Missing the app name: run \`${suggestCommand(io.invoked, ['update', '<app-name>'])}\`.`);
  const ws = findWorkspace(args.workspace, process.cwd());
  // A dry run changes nothing, so it neither waits for nor blocks another run.
  const lock = await holdWorkspace(ws.root, io, args.dryRun);
  try {
    return await updateApp(ws, name, args, io);
  } finally {
    lock?.release();
  }
}

async function updateApp(ws: Workspace, name: string, args: ParsedArgs, io: Io): Promise<UpdateResult> {
  const snapshot = readSnapshot(ws, { dbService: args.given.dbService });
  const record = readRecord(snapshot, name);
  requireReadableApps(snapshot.apps, record.slug);
  const { answers, changed } = await newAnswers(record, args.given, snapshot);
  const base = typeof args.options.base === 'string' ? args.options.base : undefined;
  // The recorded version is workspace input: only a release is fetched (update-base.ts).
  if (base === undefined) assertRelease(record.file.version, path.join(record.slug, ANSWERS_FILE));
  let from = record.file.version;
  if (compareVersions(from, VERSION) > 0) {
    throw new UsageError(`${record.slug} was generated by create-ovu-app ${from}, newer than this ${VERSION}: run \`npx create-ovu-app@${from} update ${record.slug}\` (or later).`);
  }
  // The same version renders the same base in this process; another is run as its own package.
  const baseRendered: Rendered =
    from === VERSION && base === undefined
      ? await renderCurrent(record.answers, io.tools)
      : await renderRecorded({ version: from, recorded: record.raw, answers: record.answers, base, signal: io.signal });
  from = baseRendered.source?.version ?? from;
  const spec = specFromAnswers(answers);
  // The renders hold a stand-in password where the app's files hold the real one: put it back
  // before merging, so those lines are the same on all three sides and never conflict.
  const password = spec.settings.kind === 'crud' ? findAppPassword(snapshot.read, ws, spec.names).value : undefined;
  const baseRender = withRealPassword(baseRendered, password);
  const theirs = withRealPassword(await renderCurrent(answers, io.tools), password);
  const plan = new Plan(snapshot.read, ws.root, snapshot.mode);
  const appDir = path.join(ws.root, record.slug);
  const rel = (file: string): string => path.relative(ws.root, file);
  const outcome = mergeInto(plan, appDir, baseRender, theirs, record.file.files, VERSION);
  const files = outcome.files.map((f) => ({ ...f, path: rel(path.join(appDir, f.path)) }));
  const notes: string[] = [];

  if (spec.settings.kind === 'crud') files.push(...mergeInitDb(plan, ws, spec, baseRender, theirs, notes));
  writeWorkspaceFiles(plan, snapshot, spec);
  plan.write(path.join(appDir, ANSWERS_FILE), answersFileText(answers, outcome.record));

  // The stand-in is public (it is in this source): a file that would keep it is never written.
  const standIn = plan.list().find((c) => c.after.includes(RENDER_PASSWORD));
  if (standIn) {
    throw new UserError(`${rel(standIn.path)} holds ${record.slug}'s password, and ${spec.names.passwordVar} is not set in ${rel(appEnvFiles(ws.root, record.slug).env)} or .env: ${PASSWORD_FIX}, then run update again. Nothing was written.`);
  }
  if (io.signal.aborted) throw new InterruptedError();
  const conflicts = files.filter((f) => f.action === 'conflict').map((f) => f.path);
  const result: UpdateResult = { spec, root: ws.root, appDir, dryRun: args.dryRun, from, to: VERSION, plan, files, conflicts, changedAnswers: changed, notes, base: baseRendered.source ?? { kind: 'this', version: VERSION, detail: '' } };
  if (args.dryRun) return result;
  const writes = plan.list().length + plan.removed().length;
  // A person at a terminal sees the merge first; without one it is written (conflicts and all:
  // the exit code and the list say so, and git shows every line).
  if (writes && io.interactive && !args.yes && !(await io.confirm({ command: 'update', plan: result }))) throw new CancelledError();
  if (io.signal.aborted) throw new InterruptedError();
  await plan.commit();
  return result;
}

/**
 * Merges the app directory's files into the plan and computes the new record of what the
 * generator wrote. A file the team has not changed since (the base's text, or the recorded
 * hash for files rendered with a stand-in secret) is recorded as written now; any other keeps
 * theirs's hash, so a later --force or update still sees it as the team's.
 */
export function mergeInto(
  plan: Plan,
  appDir: string,
  base: Rendered,
  theirs: Rendered,
  recorded: Record<string, string> | undefined,
  version: string,
): { files: FileOutcome[]; record: Record<string, string> } {
  const files: FileOutcome[] = [];
  const record: Record<string, string> = {};
  const paths = [...new Set([...base.files.keys(), ...theirs.files.keys()])].filter((p) => p !== ANSWERS_FILE).sort();
  // The record lists files in the order the generator wrote them, as a new app's does.
  const order = Object.keys(recordOf(theirs));
  for (const p of paths) {
    const file = path.join(appDir, ...p.split('/'));
    const b = base.files.get(p);
    const t = theirs.files.get(p);
    const o = plan.read(file);
    const untouched = o !== undefined && (o === b || recorded?.[p] === sha256(o));
    const secret = path.basename(p) === '.env';
    const opts = secret ? { mode: 0o600, secret: true } : {};
    let final = o;
    if (b === t) {
      // The template did not change it: the team's file (or its absence) stands.
    } else if (t === undefined) {
      if (o === undefined) continue;
      if (untouched) {
        plan.remove(file);
        files.push({ path: p, action: 'removed' });
      } else files.push({ path: p, action: 'kept-changed' });
      continue;
    } else if (o === undefined) {
      if (b === undefined) {
        final = t;
        plan.write(file, t, opts);
        files.push({ path: p, action: 'added' });
      } else files.push({ path: p, action: 'kept-deleted' });
    } else if (o === t) {
      // Both made the same change.
    } else {
      const m = mergeText(o, b ?? '', t, { ours: OURS_LABEL, theirs: theirsLabel(version) });
      if (m.conflicts && /\.sql$/i.test(p)) {
        // SQL runs as written (a migration): the file stays the team's, the conflict goes beside it.
        plan.write(`${file}.conflict`, m.text, opts);
        files.push({ path: `${p}.conflict`, action: 'conflict' });
      } else {
        final = m.text;
        plan.write(file, m.text, opts);
        files.push({ path: p, action: m.conflicts ? 'conflict' : untouched ? 'updated' : 'merged' });
      }
    }
    if (t !== undefined) record[p] = sha256(untouched && final !== undefined ? final : t);
  }
  const ordered = Object.fromEntries([...order.filter((p) => p in record), ...Object.keys(record).filter((p) => !order.includes(p))].map((p) => [p, record[p]!]));
  return { files, record: ordered };
}

function recordOf(r: Rendered): Record<string, string> {
  const text = r.files.get(ANSWERS_FILE);
  try {
    return (text && (JSON.parse(text) as { files?: Record<string, string> }).files) || {};
  } catch {
    return {};
  }
}

function withRealPassword(r: Rendered, password: string | undefined): Rendered {
  if (!password) return r;
  const put = (text: string): string => text.split(RENDER_PASSWORD).join(password);
  return { files: new Map([...r.files].map(([p, text]) => [p, put(text)])), initDbBlock: r.initDbBlock };
}

/** The app's init-db.sql block, merged as a file is; the platform block comes with a clean one. */
function mergeInitDb(plan: Plan, ws: Workspace, spec: AppSpec, base: Rendered, theirs: Rendered, notes: string[]): FileOutcome[] {
  const source = plan.read(ws.initDbFile);
  const slug = spec.names.slug;
  const ours = appBlockText(source, slug);
  const b = base.initDbBlock;
  const t = theirs.initDbBlock;
  const where = `${path.relative(ws.root, ws.initDbFile)} (${slug}'s block)`;
  if (t === undefined || b === t) return [];
  if (source === undefined || ours === undefined) {
    notes.push(`init-db.sql has no block for ${slug}: not restored (\`create-ovu-app ${slug} --force\` writes it again)`);
    return [{ path: where, action: 'kept-deleted' }];
  }
  if (ours === t) return [];
  if (ours === b || b === undefined) {
    const edit = editInitDb(source, spec, { force: true });
    plan.write(ws.initDbFile, edit.text);
    return [{ path: where, action: 'updated' }];
  }
  const m = mergeText(ours, b, t, { ours: OURS_LABEL, theirs: theirsLabel(VERSION) });
  if (m.conflicts) {
    // psql would stop at `<<<<<<<` and ovu-db-init fail for every app: the conflict goes beside
    // init-db.sql, which keeps the team's block as it was.
    const beside = `${ws.initDbFile}.conflict`;
    const rel = path.relative(ws.root, beside);
    plan.write(beside, replaceAppBlock(source, slug, m.text));
    notes.push(`${path.relative(ws.root, ws.initDbFile)} is unchanged: ${slug}'s block conflicts, and the merge is in ${rel}: resolve its markers, then move it over ${path.relative(ws.root, ws.initDbFile)} (mv ${rel} ${path.relative(ws.root, ws.initDbFile)})`);
    return [{ path: rel, action: 'conflict' }];
  }
  plan.write(ws.initDbFile, replaceAppBlock(source, slug, m.text));
  return [{ path: where, action: 'merged' }];
}

/** apps.compose.yaml and the derived files, computed again from the workspace's apps. */
function writeWorkspaceFiles(plan: Plan, snapshot: WorkspaceSnapshot, spec: AppSpec): void {
  const ws = snapshot.workspace;
  const slug = spec.names.slug;
  const compose = addAppToCompose(snapshot.compose, spec);
  plan.write(path.join(ws.root, compose.appsFile.name), compose.appsFile.text);
  stageDbInitEnv(plan, ws.root, compose.dbInitEnv);
  const others = appsForDerivedFiles(snapshot.apps, slug);
  stageDerived(plan, { root: ws.root, apps: [...others, { dir: slug, spec }], database: compose.dbInit, changed: slug });
}
