/** Moved to stacks/python/installer.ts: everything Python's is in its stack folder. */
export { pythonInstaller, type PythonInstaller } from './python/installer.ts';
