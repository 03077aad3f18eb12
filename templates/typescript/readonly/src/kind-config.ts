/**
 * Settings only this kind of app has: none. A readonly app has no database of its own; ULM is
 * its one dependency (src/config.ts).
 */
import type { Env } from './env.js';

export type KindConfig = Record<never, never>;

export const readKindConfig: (env: Env) => KindConfig = () => ({});
