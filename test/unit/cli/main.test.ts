import { beforeEach, describe, expect, it, vi } from 'vitest';
import { vol, fs as memfs } from 'memfs';

vi.mock('node:fs', async () => {
  const m = await vi.importActual<typeof import('memfs')>('memfs');
  return { default: m.fs, ...m.fs };
});

const { realTemplates } = await import('../../helpers/templates.ts');
const { main } = await import('../../../src/cli/main.ts');

const TEMPLATES = await realTemplates();

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeEach(() => {
  vol.reset();
  vol.fromJSON({ ...TEMPLATES, '/ws/docker-compose.yml': 'services:\n  api:\n    image: x\n' });
  vi.stubEnv('CI', 'true');
});

describe('the CLI on a file system that refuses', () => {
  it('turns EACCES into one line, exit 1, and leaves the workspace as it was', async () => {
    const before = vol.toJSON('/ws');
    const rename = memfs.renameSync;
    const spy = vi.spyOn(memfs, 'renameSync').mockImplementation((from, to) => {
      if (String(to).endsWith('/init-db.sql')) throw Object.assign(new Error(`EACCES: permission denied, rename '${String(from)}'`), { code: 'EACCES', path: String(from) });
      return rename(from, to);
    });
    try {
      const r = await run(['inventory', '--yes', '--workspace', '/ws']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^error: cannot use \/ws\/init-db\.sql: permission denied; fix that, or pass another --workspace\. Nothing was changed\.\n$/);
    } finally {
      spy.mockRestore();
    }
    expect(vol.toJSON('/ws')).toEqual(before);
  });

  it('still reports a real bug with its stack', async () => {
    const spy = vi.spyOn(memfs, 'writeFileSync').mockImplementation(() => {
      throw new TypeError('boom');
    });
    try {
      const r = await run(['inventory', '--yes', '--workspace', '/ws']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('this is a bug');
      expect(r.err).toMatch(/TypeError: boom\n\s+at /);
    } finally {
      spy.mockRestore();
    }
  });
});
