/**
 * `<app>/.ovu-app.json`: what the generator wrote the app from (its version and the saved
 * answers, never a secret). Later runs read it to know the workspace's apps without parsing their
 * files, and `provision` reads the app's settings from it.
 */
import { UserError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { hasMarkerRun } from '../merge/markers.ts';
import { QUESTIONS, defaultFor, savedAnswers, validateAnswer, type Answers, type WorkspaceFacts } from './questions.ts';

export const ANSWERS_FILE = '.ovu-app.json';

export interface AnswersFile {
  generator: 'create-ovu-app';
  version: string;
  answers: Answers;
  /** SHA-256 of each file the generator wrote, by path in the app directory (absent before 0.2). */
  files?: Record<string, string>;
}

export function answersFileText(a: Answers, files: Record<string, string>): string {
  return JSON.stringify({ generator: 'create-ovu-app', version: VERSION, answers: savedAnswers(a), files }, null, 2) + '\n';
}

const NO_FACTS: WorkspaceFacts = { usedPorts: new Map(), ownService: undefined, interactive: false };

/**
 * An app's answers file, with the run-time answers (install, create-db, …) off. Throws a
 * UserError naming the file when it is not one create-ovu-app wrote or its answers are not valid.
 */
export function parseAnswersFile(text: string, file: string): AnswersFile {
  const broken = (why: string) => new UserError(`${file} ${why}: restore it from git, or regenerate the app with --force.`);
  // A merge that conflicted in it: git's markers at the start of a line.
  if (hasMarkerRun(text) && /^(?:<{7}|={7}|>{7})(?:\s|$)/m.test(text)) {
    throw new UserError(`${file} has git merge-conflict markers (<<<<<<< ======= >>>>>>>): resolve the conflict in it (keep one side, then \`git add\` it), or restore it from git.`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw broken('is not valid JSON');
  }
  const d = data as Partial<AnswersFile> | null;
  if (!d || d.generator !== 'create-ovu-app' || typeof d.version !== 'string' || typeof d.answers !== 'object' || d.answers === null) {
    throw broken('is not a create-ovu-app answers file');
  }
  const a: Partial<Answers> = { install: false, createDb: false, adminUrl: undefined, migrate: false };
  for (const q of QUESTIONS) {
    if (!q.saved) continue;
    // What does not apply to the app (pool settings of a readonly app) takes its default.
    if (q.skip?.(a)) {
      (a as Record<string, unknown>)[q.key] = defaultFor(q, a, NO_FACTS);
      continue;
    }
    let value = (d.answers as unknown as Record<string, unknown>)[q.key];
    // A file written before the question existed takes its default.
    if (value === undefined && q.since !== undefined) value = defaultFor(q, a, NO_FACTS);
    const problem = value === undefined ? `has no ${q.key}` : validateAnswer(q, value, a, NO_FACTS);
    if (problem) throw broken(`is not valid (${q.key}: ${problem})`);
    (a as Record<string, unknown>)[q.key] = value;
  }
  const files = d.files && typeof d.files === 'object' && Object.values(d.files).every((h) => typeof h === 'string') ? d.files : undefined;
  return { generator: 'create-ovu-app', version: d.version, answers: a as Answers, ...(files ? { files } : {}) };
}
