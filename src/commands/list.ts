/** `create-ovu-app list`: the workspace's apps, from their answers files. */
import path from 'node:path';
import { ANSWERS_FILE } from '../app/answers-file.ts';
import { deriveNames } from '../app/names.ts';
import { specFromAnswers, type AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { readApps } from '../workspace/snapshot.ts';
import { findWorkspace, readIfExists } from '../workspace/workspace.ts';

export type ListedApp = { dir: string; spec: AppSpec; version: string } | { dir: string; error: string };

export interface ListResult {
  root: string;
  apps: ListedApp[];
}

export function runList(args: ParsedArgs): ListResult {
  const ws = findWorkspace(args.workspace, process.cwd());
  const apps = readApps(ws.root, readIfExists).map((a): ListedApp => {
    if ('error' in a.record) return { dir: a.dir, error: a.record.error };
    if (deriveNames(a.record.answers.name).slug !== a.dir) {
      return { dir: a.dir, error: `${path.join(a.dir, ANSWERS_FILE)} names the app "${a.record.answers.name}", not "${a.dir}"` };
    }
    return { dir: a.dir, spec: specFromAnswers(a.record.answers), version: a.record.version };
  });
  return { root: ws.root, apps };
}
