import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fs, vol } from 'memfs';

vi.mock('node:fs', async () => {
  const memfs = await vi.importActual<typeof import('memfs')>('memfs');
  return { default: memfs.fs, ...memfs.fs };
});

const { Plan } = await import('../../../src/plan/plan.ts');
const { readIfExists } = await import('../../../src/workspace/workspace.ts');

/** Every file under / with its content: the whole "disk". */
const snapshot = () => vol.toJSON();

beforeEach(() => {
  vol.reset();
  vol.fromJSON({ '/ws/docker-compose.yml': 'services: {}\n', '/ws/.env': 'A=1\n' });
  fs.chmodSync('/ws/.env', 0o600);
});

describe('Plan', () => {
  it('reads staged content before disk content', () => {
    const plan = new Plan(readIfExists);
    expect(plan.read('/ws/.env')).toBe('A=1\n');
    plan.write('/ws/.env', 'A=1\nB=2\n');
    expect(plan.read('/ws/.env')).toBe('A=1\nB=2\n');
    expect(plan.read('/ws/missing')).toBeUndefined();
  });

  it('drops a write that changes nothing', () => {
    const plan = new Plan(readIfExists);
    plan.write('/ws/.env', 'A=1\n');
    expect(plan.list()).toEqual([]);
  });

  it('records before and after for edits, and undefined before for new files', () => {
    const plan = new Plan(readIfExists);
    plan.write('/ws/.env', 'A=2\n');
    plan.write('/ws/init-db.sql', 'x');
    expect(plan.list().map((c) => [c.path, c.before, c.after])).toEqual([
      ['/ws/.env', 'A=1\n', 'A=2\n'],
      ['/ws/init-db.sql', undefined, 'x'],
    ]);
  });

  it('writes nothing before commit, everything after', () => {
    const before = snapshot();
    const plan = new Plan(readIfExists);
    plan.createDir('/ws/app', { replace: false });
    plan.write('/ws/app/backend/main.py', 'print(1)\n');
    plan.write('/ws/docker-compose.yml', 'services: {a: {}}\n');
    expect(snapshot()).toEqual(before);
    plan.commit();
    expect(snapshot()).toEqual({
      '/ws/docker-compose.yml': 'services: {a: {}}\n',
      '/ws/.env': 'A=1\n',
      '/ws/app/backend/main.py': 'print(1)\n',
    });
  });

  it('keeps an edited file\'s mode and gives a new one the mode asked for', () => {
    const plan = new Plan(readIfExists);
    plan.write('/ws/.env', 'A=1\nB=2\n', { mode: 0o644 });
    plan.write('/ws/app.env', 'S=1\n', { mode: 0o600 });
    plan.commit();
    expect(fs.statSync('/ws/.env').mode & 0o777).toBe(0o600);
    expect(fs.statSync('/ws/app.env').mode & 0o777).toBe(0o600);
  });

  it('replaces an existing app directory only when asked', () => {
    vol.fromJSON({ '/ws/app/old.txt': 'old' });
    const plan = new Plan(readIfExists);
    plan.createDir('/ws/app', { replace: true });
    plan.write('/ws/app/new.txt', 'new');
    expect(plan.read('/ws/app/old.txt')).toBeUndefined();
    plan.commit();
    expect(fs.existsSync('/ws/app/old.txt')).toBe(false);
    expect(fs.readFileSync('/ws/app/new.txt', 'utf8')).toBe('new');
    expect(fs.readdirSync('/ws').sort()).toEqual(['.env', 'app', 'docker-compose.yml']);
  });

  it('refuses to overwrite an app directory that appeared meanwhile, leaving the disk as it was', () => {
    const plan = new Plan(readIfExists);
    plan.createDir('/ws/app', { replace: false });
    plan.write('/ws/app/new.txt', 'new');
    plan.write('/ws/.env', 'A=2\n');
    vol.fromJSON({ '/ws/app/theirs.txt': 'theirs' });
    const before = snapshot();
    expect(() => plan.commit()).toThrow(/appeared while the plan was being written/);
    expect(snapshot()).toEqual(before);
  });

  it('rolls back every file when a late rename fails', () => {
    const plan = new Plan(readIfExists);
    plan.createDir('/ws/app', { replace: false });
    plan.write('/ws/app/a.txt', 'a');
    plan.write('/ws/.env', 'A=2\n');
    plan.write('/ws/docker-compose.yml', 'services: {b: {}}\n');
    const before = snapshot();
    const rename = fs.renameSync;
    let calls = 0;
    const spy = vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      // The app dir and .env go through; the compose file's rename fails.
      if (++calls === 3) throw Object.assign(new Error('EIO: disk on fire'), { code: 'EIO' });
      return rename(from, to);
    });
    try {
      expect(() => plan.commit()).toThrow(/disk on fire/);
    } finally {
      spy.mockRestore();
    }
    expect(snapshot()).toEqual(before);
  });

  it('cleans up its temporary files when writing fails', () => {
    const plan = new Plan(readIfExists);
    plan.createDir('/ws/app', { replace: false });
    plan.write('/ws/app/a.txt', 'a');
    plan.write('/ws/.env', 'A=2\n');
    const before = snapshot();
    const write = fs.writeFileSync;
    const spy = vi.spyOn(fs, 'writeFileSync').mockImplementation((file, data, opts) => {
      if (String(file).includes('.env')) throw Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' });
      return write(file, data, opts as never);
    });
    try {
      expect(() => plan.commit()).toThrow(/ENOSPC/);
    } finally {
      spy.mockRestore();
    }
    expect(snapshot()).toEqual(before);
  });
});
