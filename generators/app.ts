import path from 'node:path';
import type { NodePlopAPI } from 'node-plop';
import { QUESTIONS, defaultFor, parseValue, validateAnswer, type Answers, type Question, type WorkspaceFacts } from '../src/app/questions.ts';
import { workspaceFacts } from '../src/commands/new-plan.ts';
import { runNew } from '../src/commands/new.ts';
import type { Io } from '../src/commands/io.ts';
import type { ParsedArgs } from '../src/cli/args.ts';
import { findWorkspace } from '../src/workspace/workspace.ts';
import { readSnapshot } from '../src/workspace/snapshot.ts';
import { groupChanges } from '../src/cli/output.ts';
import { detectPackageManager } from '../src/stacks/package-managers.ts';
import { toolchain } from '../src/stacks/index.ts';

/**
 * The `app` generator for plop users (`plop app`). It asks the same questions from the same
 * schema as the CLI and hands the answers to the same staged plan, so `plop app` and
 * `npm create ovu-app` write identical apps. Provisioning stays a CLI step
 * (`create-ovu-app provision <app>`): plop has no place for it.
 */

/** Questions a plop run asks: the app itself, not run-time steps like --create-db. */
const PLOP_QUESTIONS = QUESTIONS.filter((q) => q.saved);

/** Plop answers are strings from inquirer 9 prompts; type them with the schema's own parser. */
function typed(raw: Record<string, unknown>, facts: WorkspaceFacts): Answers {
  const a: Partial<Answers> = { install: false, createDb: false, adminUrl: undefined, migrate: false };
  for (const q of PLOP_QUESTIONS) {
    if (q.skip?.(a)) continue;
    const given = raw[q.key];
    let value: unknown = given === undefined || given === '' ? defaultFor(q, a, facts) : given;
    if (typeof value === 'string' && q.type !== 'string') {
      const parsed = parseValue(q, value);
      if (parsed.error) throw new Error(parsed.error);
      value = parsed.value;
    }
    const problem = validateAnswer(q, value, a, facts);
    if (problem) throw new Error(problem);
    (a as Record<string, unknown>)[q.key] = value;
  }
  return a as Answers;
}

/** Inquirer 9 awaits `validate` and `default` functions: the workspace is read when asked. */
function toInquirer(q: Question, facts: () => Promise<WorkspaceFacts>) {
  const when = (a: Partial<Answers>) => !q.skip?.(a);
  const validate = async (v: unknown, a: Partial<Answers>) => {
    const parsed: { value?: unknown; error?: string } = typeof v === 'string' && q.type !== 'string' ? parseValue(q, v) : { value: v };
    return parsed.error ?? validateAnswer(q, parsed.value, a, await facts()) ?? true;
  };
  const base = { name: q.key, message: q.message ?? q.describe, when, validate };
  switch (q.type) {
    case 'choice':
      return { ...base, type: 'list', choices: q.choices.map((c) => ({ name: c.label, value: c.value })), default: q.default() };
    case 'boolean':
      return { ...base, type: 'confirm', default: async () => q.default({}, await facts()) };
    default:
      return { ...base, type: 'input', default: async (a: Partial<Answers>) => defaultFor(q, a, await facts()) };
  }
}

export default function appGenerator(plop: NodePlopAPI): void {
  const workspace = () => findWorkspace(undefined, plop.getDestBasePath() || process.cwd());

  // async, so node-plop reports a thrown error as the action's failure message.
  plop.setActionType('ovu-app', async (raw, config) => {
    const ws = workspace();
    // The CLI's own `new` command, with plop's answers in place of flags and prompts.
    const pm = detectPackageManager(process.env.npm_config_user_agent);
    const io: Io = { interactive: false, json: false, verbose: false, signal: new AbortController().signal, tools: toolchain(pm, process.env), invoked: { pm, workspace: ws.root }, answers: async (_given, facts) => typed(raw, facts), confirm: async () => true, notice: () => {}, committed: () => {}, step: () => () => {} };
    const args: ParsedArgs = { command: 'new', given: {}, positionals: [], options: {}, workspace: ws.root, yes: true, dryRun: false, force: Boolean(config.force), resetPassword: false, json: false, verbose: false, packageManager: undefined, help: false, version: false };
    const { app } = await runNew(args, io);
    const { created, changed } = groupChanges(app.plan, ws.root);
    return `${path.relative(ws.root, app.appDir)}/ (${created.length} files created; changed: ${changed.join(', ') || 'nothing'})`;
  });

  let facts: Promise<WorkspaceFacts> | undefined;
  const workspaceFactsOnce = () => (facts ??= Promise.resolve().then(() => workspaceFacts(readSnapshot(workspace()), false)));
  plop.setGenerator('app', {
    description: 'a new OVU app (ADR-002: its own database and login, ULM through its API)',
    prompts: PLOP_QUESTIONS.map((q) => toInquirer(q, workspaceFactsOnce)) as never,
    actions: [{ type: 'ovu-app' }],
  });
}
