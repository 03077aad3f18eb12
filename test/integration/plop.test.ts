import fs from 'node:fs';
import path from 'node:path';
import nodePlop from 'node-plop';
import { describe, expect, it } from 'vitest';
import plopfile from '../../plopfile.ts';
import { adrWorkspace, runMainInProcess } from '../helpers/cli.ts';

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = fs.readFileSync(path.join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

describe('plopfile.ts (node-plop)', () => {
  it('registers the app generator with prompts from the question schema', async () => {
    const plop = await nodePlop('', { destBasePath: adrWorkspace(), force: false });
    plopfile(plop);
    expect(plop.getGeneratorList().map((g) => g.name)).toEqual(['app']);
    const prompts = plop.getGenerator('app').prompts as { name: string }[];
    expect(prompts.map((p) => p.name)).toEqual(['name', 'stack', 'kind', 'port', 'dbPoolSize', 'dbMaxOverflow', 'dbPoolTimeout', 'processes', 'pgbouncer', 'ulmUrl']);
  });

  it('writes the same app as the CLI', async () => {
    const viaPlop = adrWorkspace();
    const plop = await nodePlop('', { destBasePath: viaPlop, force: false });
    plopfile(plop);
    const result = await plop.getGenerator('app').runActions({ name: 'inventory', stack: 'python', kind: 'crud', port: '8001', dbPoolSize: '5', dbMaxOverflow: '5', dbPoolTimeout: '30', processes: '1', ulmUrl: 'http://ulm-backend:8000' });
    expect(result.failures).toEqual([]);
    expect(result.changes[0]?.path).toMatch(/^inventory\/ \(\d+ files created; changed: docker-compose.yml\)$/);

    const viaCli = adrWorkspace();
    expect(await runMainInProcess(['inventory', '--yes', '--json', '--workspace', viaCli])).toBe(0);
    // Identical but for the random password, its verifier (random salt) and the recorded hashes of .env and backend/.env, which hold it.
    const scrub = (f: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(f).map(([k, v]) => [
          k,
          v.replace(/("(?:backend\/)?\.env": )"[0-9a-f]{64}"/g, '$1"<hash>"').replace(/SCRAM-SHA-256\$\S+/g, '<verifier>').replace(/[A-Za-z0-9_-]{43}/g, '<password>'),
        ]),
      );
    expect(scrub(files(viaPlop))).toEqual(scrub(files(viaCli)));
  });

  it('refuses invalid answers with the schema\'s message', async () => {
    const plop = await nodePlop('', { destBasePath: adrWorkspace(), force: false });
    plopfile(plop);
    const result = await plop.getGenerator('app').runActions({ name: '9lives' });
    expect(result.changes).toEqual([]);
    expect(result.failures).toHaveLength(1);
    expect(String((result.failures[0] as { error: unknown }).error)).toMatch(/starts with a digit/);
  });
});
