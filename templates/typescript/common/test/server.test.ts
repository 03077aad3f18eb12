/** src/server.ts as a process: it starts, and on SIGTERM it closes the app (its onClose hooks) and exits 0. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BACKEND = fileURLToPath(new URL('..', import.meta.url));

describe('src/server.ts', () => {
  it('shuts down gracefully on SIGTERM', async () => {
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: BACKEND,
      // Nothing is reached at start: the ULM client (and a crud app's pool) connect on first use.
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATABASE_URL: 'postgresql://x:y@127.0.0.1:1/none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server listening')) resolve();
      };
      server.stdout.on('data', read);
      server.stderr.on('data', read);
      server.once('exit', () => reject(new Error(`exited before listening:\n${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));

    await listening;
    server.kill('SIGTERM');

    expect(await exited).toBe(0);
    expect(output).toContain('SIGTERM received: shutting down');
  }, 30_000);
});
