import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import { STACKS } from '../stacks/index.ts';
import { installHint } from '../stacks/tools.ts';
import { shellWords } from '../stacks/stack.ts';
import type { Workspace } from '../workspace/workspace.ts';

export interface Progress {
  installed: boolean;
  provisioned: boolean;
  migrated: boolean;
}

/** The commands to type next, from the current directory, for what is not done yet. */
export function nextSteps(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress): string[] {
  const stack = STACKS[spec.settings.stack];
  const steps = [`cd ${shellWords([path.relative(process.cwd(), backendDir) || '.'])}`];
  if (!done.installed) steps.push(installHint(stack));
  if (spec.settings.kind === 'crud') {
    if (!done.provisioned) steps.push(`npx create-ovu-app provision ${spec.names.slug} --migrate   # creates ${spec.names.db} on your local PostgreSQL`);
    else if (!done.migrated) steps.push(stack.migrateHint);
  }
  steps.push(stack.testHint);
  const composeRel = path.relative(backendDir, ws.composeFile);
  steps.push(`docker compose -f ${shellWords([composeRel])} up --build ${spec.names.service}   # then open http://localhost:${spec.settings.port}${stack.docsPath}`);
  return steps;
}
