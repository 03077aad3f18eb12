/** The stacks the generator can write: one row each. */
import type { Stack } from '../app/spec.ts';
import { python } from './python.ts';
import type { StackDef } from './stack.ts';
import { typescript } from './typescript.ts';

export const STACKS: Record<Stack, StackDef> = { python, typescript };

export type { StackDef } from './stack.ts';
