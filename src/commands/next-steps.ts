import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import { STACKS } from '../stacks/index.ts';
import type { Toolchain } from '../stacks/stack.ts';
import { installHint } from '../stacks/tools.ts';
import { shellWords } from '../stacks/stack.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { suggestCommand, type Invocation } from './suggest.ts';

export interface Progress {
  installed: boolean;
  provisioned: boolean;
  migrated: boolean;
}

interface Step {
  command: string;
  /** Shown after it as a shell comment. */
  comment?: string;
  /** What running it needs besides (PGPASSWORD): shown after it, also in a one-line continuation. */
  needs?: string;
}

/** What is left of setting the app up (install, provision, migrate), from the current directory on. */
function setupSteps(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress, tools: Toolchain, invoked: Invocation): Step[] {
  const stack = STACKS[spec.settings.stack];
  const steps: Step[] = [{ command: `cd ${shellWords([path.relative(process.cwd(), backendDir) || '.'])}` }];
  if (!done.installed) steps.push({ command: installHint(stack, tools) });
  if (spec.settings.kind === 'crud') {
    if (!done.provisioned) {
      // From backend/, the nearest compose file is the app's own compose.yaml: name the workspace.
      const provision = suggestCommand(invoked, ['provision', spec.names.slug, '--migrate'], { workspace: path.relative(backendDir, ws.root), adminUrl: true });
      const [command, needs] = provision.split(/ {3}# /);
      steps.push({ command: command!, comment: `creates ${spec.names.db} and ${spec.names.user}, then migrates`, ...(needs ? { needs } : {}) });
    } else if (!done.migrated) {
      const [command, comment] = stack.migrateHint(tools).split(/ {3}# /);
      steps.push({ command: command!, ...(comment ? { comment } : {}) });
    }
  }
  return steps;
}

/**
 * The commands to type next, for what is not done yet: the first from the current directory, the
 * rest from the app's backend directory it changes into.
 */
export function nextSteps(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress, tools: Toolchain, invoked: Invocation): string[] {
  const stack = STACKS[spec.settings.stack];
  const steps = setupSteps(spec, ws, backendDir, done, tools, invoked);
  steps.push({ command: stack.testHint(tools) });
  const composeRel = path.relative(backendDir, ws.composeFile);
  steps.push({ command: `docker compose -f ${shellWords([composeRel])} up --build ${spec.names.service}`, comment: `then open http://localhost:${spec.settings.port}${stack.docsPath}` });
  return steps.map((s) => {
    const notes = [s.comment, s.needs].filter(Boolean);
    return notes.length ? `${s.command}   # ${notes.join('; ')}` : s.command;
  });
}

/** One command line that finishes setting the app up from where a run stopped: `cd … && … && …`. */
export function continueCommand(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress, tools: Toolchain, invoked: Invocation): string {
  const steps = setupSteps(spec, ws, backendDir, done, tools, invoked);
  const needs = steps.flatMap((s) => (s.needs ? [s.needs] : []));
  return steps.map((s) => s.command).join(' && ') + (needs.length ? `   # ${needs.join('; ')}` : '');
}
