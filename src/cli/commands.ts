/** The command registry moved to src/commands/registry.ts (the app's reserved names read it too). */
export * from '../commands/registry.ts';
