/** `create-ovu-app list`: the workspace's apps, from their answers files. */
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { readApps } from '../workspace/snapshot.ts';
import { findWorkspace, readIfExists } from '../workspace/workspace.ts';
import type { Io } from './io.ts';
import { settleInterrupted } from './open-workspace.ts';

export type ListedApp = { dir: string; spec: AppSpec; version: string } | { dir: string; error: string };

export interface ListResult {
  root: string;
  apps: ListedApp[];
}

export async function runList(args: ParsedArgs, io: Pick<Io, 'notice'>): Promise<ListResult> {
  const ws = findWorkspace(args.workspace, process.cwd());
  // A commit an interrupted run left is rolled back first; one that cannot be leaves its apps marked.
  const unfinished = await settleInterrupted(ws.root, io);
  const halfMade = new Set((unfinished?.paths ?? []).map((p) => path.relative(ws.root, p).split(path.sep)[0]));
  const apps = readApps(ws.root, readIfExists).map((a): ListedApp => {
    if (!a.spec) return { dir: a.dir, error: a.record.error };
    if (halfMade.has(a.dir)) return { dir: a.dir, error: `half-made: ${unfinished!.message}` };
    return { dir: a.dir, spec: a.spec, version: a.record.version };
  });
  return { root: ws.root, apps };
}
