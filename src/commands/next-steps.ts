import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import { STACKS } from '../stacks/index.ts';
import type { Toolchain } from '../stacks/stack.ts';
import { installHint } from '../stacks/tools.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { suggestCommand, type Invocation } from './suggest.ts';

export interface Progress {
  installed: boolean;
  provisioned: boolean;
  migrated: boolean;
}

/**
 * The commands to type next, for what is not done yet: the first from the current directory, the
 * rest from the app's backend directory it changes into.
 */
export function nextSteps(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress, tools: Toolchain, invoked: Invocation): string[] {
  const stack = STACKS[spec.settings.stack];
  const steps = [`cd ${path.relative(process.cwd(), backendDir) || '.'}`];
  if (!done.installed) steps.push(installHint(stack, tools));
  if (spec.settings.kind === 'crud') {
    if (!done.provisioned) {
      // From backend/, the nearest compose file is the app's own compose.yaml: name the workspace.
      steps.push(
        suggestCommand(invoked, ['provision', spec.names.slug, '--migrate'], {
          workspace: path.relative(backendDir, ws.root),
          adminUrl: true,
          comment: `creates ${spec.names.db} and ${spec.names.user}, then migrates`,
        }),
      );
    } else if (!done.migrated) steps.push(stack.migrateHint(tools));
  }
  steps.push(stack.testHint(tools));
  const composeRel = path.relative(backendDir, ws.composeFile);
  steps.push(`docker compose -f ${composeRel} up --build ${spec.names.service}   # then open http://localhost:${spec.settings.port}${stack.docsPath}`);
  return steps;
}
