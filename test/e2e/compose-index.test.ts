/**
 * The compose index through the built CLI. The same apps, a hand edit and a --force replacement
 * go into two copies of the ADR-002 workspace: one run with the index cache, one with
 * OVU_CACHE_DIR=off (every run parses). Both must end with the same compose file and
 * init-db.sql, byte for byte, and the file must validate.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adrWorkspace, runCli, tempDir } from '../helpers/cli.ts';
import { validateCompose } from '../../src/compose-edit.ts';

type Step = { args: string[] } | { handEdit: (compose: string) => string };

const STEPS: Step[] = [
  { args: ['orders'] },
  { args: ['viewer', '--kind', 'readonly'] },
  { args: ['billing', '--stack', 'typescript', '--port', '8123'] },
  { handEdit: (c) => c.replace('\nvolumes:', '\n  # reviewed by the platform team\n\nvolumes:') },
  { args: ['reports', '--db-pool-size', '5'] },
  { args: ['orders', '--force', '--port', '8200'] },
  { args: ['audit', '--ulm-url', 'http://ulm-backend:8000/api?tenant=a b'] },
  { args: ['search'] },
];

describe('adding apps with and without the compose index', () => {
  it('leaves the same files', async () => {
    const cache = tempDir('ovu-index-cache-');
    const withIndex = adrWorkspace();
    const without = adrWorkspace();
    for (const step of STEPS) {
      for (const [ws, dir] of [
        [withIndex, cache],
        [without, 'off'],
      ] as const) {
        const compose = path.join(ws, 'docker-compose.yml');
        if ('handEdit' in step) {
          fs.writeFileSync(compose, step.handEdit(fs.readFileSync(compose, 'utf8')));
          continue;
        }
        const r = await runCli([...step.args, '--yes', '--workspace', ws], { env: { OVU_CACHE_DIR: dir } });
        expect(r.stderr).toBe('');
        expect(r.exitCode).toBe(0);
      }
      for (const file of ['docker-compose.yml', 'init-db.sql']) {
        expect(fs.readFileSync(path.join(withIndex, file), 'utf8'), `${file} after ${JSON.stringify(step)}`).toBe(
          fs.readFileSync(path.join(without, file), 'utf8'),
        );
      }
    }
    const compose = fs.readFileSync(path.join(withIndex, 'docker-compose.yml'), 'utf8');
    validateCompose(compose, 'docker-compose.yml');
    expect(compose).toContain('  search-backend:');
    // One entry per compose file the cached runs wrote, none in the run without a cache.
    expect(fs.readdirSync(path.join(cache, 'compose')).length).toBeGreaterThanOrEqual(STEPS.length - 1);
  });
});
