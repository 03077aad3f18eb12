/**
 * The stacks the generator can write: one row each, its folder src/stacks/<id>/ holding all that
 * differs (templates' place, tools, migrations, URL quirks, install and test commands). The first
 * row is the default answer to the stack question.
 */
import { python } from './python/index.ts';
import type { StackDef, Toolchain } from './stack.ts';
import { typescript } from './typescript/index.ts';
import type { PackageManager } from './package-managers.ts';

const ROWS = { python, typescript };

/** A stack's id: a key of the table. */
export type Stack = keyof typeof ROWS;

export const STACKS: Record<Stack, StackDef> = ROWS;

/** The stacks' ids, in the table's order. */
export const stackIds = (): Stack[] => Object.keys(STACKS) as Stack[];

/** The tools of this run: the package manager, and each stack's own tool (found now, once). */
export function toolchain(pm: PackageManager, env: NodeJS.ProcessEnv): Toolchain {
  const tools: Toolchain = { pm };
  for (const s of Object.values(STACKS)) if (s.tool) tools[s.tool.name] = s.tool.find(env);
  return tools;
}

export type { StackDef } from './stack.ts';
