/** Which installer a Python app's dependencies go in with: uv when it is installed, else pip. */
import fs from 'node:fs';
import path from 'node:path';

export type PythonInstaller = 'uv' | 'pip';

/** Whether `program` is an executable file in one of PATH's directories. */
function onPath(program: string, pathVar: string | undefined): boolean {
  return (pathVar ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      const file = path.join(dir, program);
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** uv when it is on PATH (faster, and it needs no pip in the virtualenv), else python3 -m venv + pip. */
export function pythonInstaller(env: NodeJS.ProcessEnv = process.env): PythonInstaller {
  return onPath('uv', env.PATH) ? 'uv' : 'pip';
}
