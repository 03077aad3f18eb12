import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { AppSpec } from '../app/spec.ts';
import { installHint } from './install.ts';

export interface MigrateOptions {
  backendDir: string;
  /** The app's own connection URL (its login, not the admin's). */
  databaseUrl: string;
  /** Where the tool's output goes: the terminal normally, stderr under --json. */
  stdout: 'inherit' | 'stderr';
}

function installAdvice(spec: AppSpec, backendDir: string): string {
  const rel = path.relative(process.cwd(), backendDir) || '.';
  return `cd ${rel} && ${installHint(spec.settings.stack)}`;
}

/** The app's own alembic: its virtualenv first, then PATH. */
function findAlembic(backendDir: string): string | undefined {
  for (const venv of ['.venv', 'venv']) {
    const bin = path.join(backendDir, venv, process.platform === 'win32' ? 'Scripts/alembic.exe' : 'bin/alembic');
    if (fs.existsSync(bin)) return bin;
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  return dirs.map((d) => path.join(d, 'alembic')).find((p) => fs.existsSync(p));
}

/** The command that applies the app's migrations, as shown to the user. */
export function migrateCommand(stack: AppSpec['settings']['stack']): string {
  // Prisma's own `migrate deploy` downloads its schema engine first; the app's offline script
  // applies the same migration.sql files and records them in _prisma_migrations as Prisma does,
  // so a later `prisma migrate deploy` sees them as applied.
  return stack === 'python' ? 'alembic upgrade head' : 'node scripts/migrate.mjs';
}

/** Runs the app's first migration with its own tool, streaming its output; its exit code becomes ours. */
export async function migrate(spec: AppSpec, opts: MigrateOptions): Promise<void> {
  let tool: string;
  let args: string[];
  if (spec.settings.stack === 'python') {
    const alembic = findAlembic(opts.backendDir);
    if (!alembic) {
      throw new UserError(
        `Alembic is not installed for ${spec.names.slug}: install the app first (${installAdvice(spec, opts.backendDir)}), then run \`create-ovu-app provision ${spec.names.slug} --migrate\`.`,
      );
    }
    [tool, args] = [alembic, ['upgrade', 'head']];
  } else {
    if (!fs.existsSync(path.join(opts.backendDir, 'node_modules', 'pg'))) {
      throw new UserError(
        `${spec.names.slug}'s dependencies are not installed: install the app first (${installAdvice(spec, opts.backendDir)}), then run \`create-ovu-app provision ${spec.names.slug} --migrate\`.`,
      );
    }
    [tool, args] = [process.execPath, ['scripts/migrate.mjs']];
  }
  const { execa } = await import('execa');
  const result = await execa(tool, args, {
    cwd: opts.backendDir,
    env: { DATABASE_URL: opts.databaseUrl },
    stdout: opts.stdout === 'stderr' ? ['inherit' as const, process.stderr] : 'inherit',
    stderr: 'inherit',
    stdin: 'ignore',
    reject: false,
  });
  if (result.exitCode !== 0) {
    throw new UserError(`${migrateCommand(spec.settings.stack)} failed with exit code ${result.exitCode} (its output is above).`, result.exitCode ?? 1);
  }
}
