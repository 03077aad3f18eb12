import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fs, vol } from 'memfs';

vi.mock('node:fs', async () => {
  const memfs = await vi.importActual<typeof import('memfs')>('memfs');
  return { default: memfs.fs, ...memfs.fs };
});

const { Plan } = await import('../../../src/plan/plan.ts');
const { recover } = await import('../../../src/plan/journal.ts');
const { readIfExists } = await import('../../../src/workspace/workspace.ts');

/** Every file under / with its content: the whole "disk". */
const snapshot = () => vol.toJSON();
const newPlan = () => new Plan(readIfExists, '/ws');

beforeEach(() => {
  vol.reset();
  vol.fromJSON({ '/ws/docker-compose.yml': 'services: {}\n', '/ws/.env': 'A=1\n' });
  fs.chmodSync('/ws/.env', 0o600);
});

/** A plan touching every kind of step: a new directory, a new file, edits, a removal. */
function everyKind() {
  vol.fromJSON({ '/ws/old.txt': 'old' });
  const plan = newPlan();
  plan.createDir('/ws/app');
  plan.write('/ws/app/backend/main.py', 'print(1)\n');
  plan.write('/ws/.env', 'A=2\n', { secret: true });
  plan.write('/ws/docker-compose.yml', 'services: {b: {}}\n');
  plan.write('/ws/new/init-db.sql', 'x');
  plan.remove('/ws/old.txt');
  return plan;
}

describe('Plan', () => {
  it('reads staged content before disk content', async () => {
    const plan = newPlan();
    expect(plan.read('/ws/.env')).toBe('A=1\n');
    plan.write('/ws/.env', 'A=1\nB=2\n');
    expect(plan.read('/ws/.env')).toBe('A=1\nB=2\n');
    expect(plan.read('/ws/missing')).toBeUndefined();
  });

  it('drops a write that changes nothing', async () => {
    const plan = newPlan();
    plan.write('/ws/.env', 'A=1\n');
    expect(plan.list()).toEqual([]);
  });

  it('records before and after for edits, and undefined before for new files', async () => {
    const plan = newPlan();
    plan.write('/ws/.env', 'A=2\n');
    plan.write('/ws/init-db.sql', 'x');
    expect(plan.list().map((c) => [c.path, c.before, c.after])).toEqual([
      ['/ws/.env', 'A=1\n', 'A=2\n'],
      ['/ws/init-db.sql', undefined, 'x'],
    ]);
  });

  it('writes nothing before commit, everything after, and leaves nothing of its own behind', async () => {
    const plan = everyKind();
    const before = snapshot();
    expect(plan.removed()).toEqual(['/ws/old.txt']);
    expect(snapshot()).toEqual(before);
    expect(await plan.commit()).toBeUndefined();
    expect(snapshot()).toEqual({
      '/ws/docker-compose.yml': 'services: {b: {}}\n',
      '/ws/.env': 'A=2\n',
      '/ws/app/backend/main.py': 'print(1)\n',
      '/ws/new/init-db.sql': 'x',
    });
    expect(fs.existsSync('/ws/.create-ovu-app')).toBe(false);
  });

  it('makes a new directory once for several new files in it, and takes it away again on a rollback', async () => {
    const plan = newPlan();
    plan.write('/ws/deploy/k8s/kustomization.yaml', 'a');
    plan.write('/ws/deploy/k8s/cluster.yaml', 'b');
    expect(await plan.commit()).toBeUndefined();
    expect(snapshot()['/ws/deploy/k8s/cluster.yaml']).toBe('b');
    expect(snapshot()['/ws/deploy/k8s/kustomization.yaml']).toBe('a');

    vol.reset();
    vol.fromJSON({ '/ws/docker-compose.yml': 'services: {}\n' });
    const before = snapshot();
    const failing = newPlan();
    failing.write('/ws/deploy/k8s/kustomization.yaml', 'a');
    failing.write('/ws/deploy/k8s/cluster.yaml', 'b');
    failing.write('/ws/docker-compose.yml', 'services: {a: {}}\n');
    const rename = fs.renameSync;
    let calls = 0;
    const spy = vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (++calls === 3) throw new Error('disk on fire');
      rename(from, to);
    });
    try {
      await expect(failing.commit()).rejects.toThrow(/disk on fire/);
    } finally {
      spy.mockRestore();
    }
    expect(snapshot()).toEqual(before);
  });

  it("keeps an edited file's mode (less group and other for a secret) and gives a new one the mode asked for", async () => {
    fs.chmodSync('/ws/.env', 0o644);
    fs.chmodSync('/ws/docker-compose.yml', 0o664);
    const plan = newPlan();
    plan.write('/ws/.env', 'A=1\nB=2\n', { secret: true });
    plan.write('/ws/docker-compose.yml', 'services: {a: {}}\n');
    plan.write('/ws/app.env', 'S=1\n', { mode: 0o600 });
    await plan.commit();
    expect(fs.statSync('/ws/.env').mode & 0o777).toBe(0o600);
    expect(fs.statSync('/ws/docker-compose.yml').mode & 0o777).toBe(0o664);
    expect(fs.statSync('/ws/app.env').mode & 0o777).toBe(0o600);
  });

  it('refuses a read-only file while planning, with what to do', async () => {
    fs.chmodSync('/ws/docker-compose.yml', 0o444);
    expect(() => newPlan().write('/ws/docker-compose.yml', 'services: {b: {}}\n')).toThrow(
      '/ws/docker-compose.yml is read-only: make it writable (chmod u+w /ws/docker-compose.yml) and run again; nothing was written.',
    );
  });

  it('edits a symlinked file through the link, which stays a link', async () => {
    vol.fromJSON({ '/shared/compose.yml': 'services: {}\n' });
    fs.rmSync('/ws/docker-compose.yml');
    fs.symlinkSync('/shared/compose.yml', '/ws/docker-compose.yml');
    const plan = newPlan();
    plan.write('/ws/docker-compose.yml', 'services: {c: {}}\n');
    await plan.commit();
    expect(fs.lstatSync('/ws/docker-compose.yml').isSymbolicLink()).toBe(true);
    expect(fs.readFileSync('/shared/compose.yml', 'utf8')).toBe('services: {c: {}}\n');
  });

  it('refuses to overwrite an app directory that appeared meanwhile, leaving the disk as it was', async () => {
    const plan = newPlan();
    plan.createDir('/ws/app');
    plan.write('/ws/app/new.txt', 'new');
    plan.write('/ws/.env', 'A=2\n');
    vol.fromJSON({ '/ws/app/theirs.txt': 'theirs' });
    const before = snapshot();
    await expect(plan.commit()).rejects.toThrow(/appeared while the plan was being written/);
    expect(snapshot()).toEqual(before);
  });

  it('rolls back every step when a late rename fails', async () => {
    const plan = everyKind();
    const before = snapshot();
    const rename = fs.renameSync;
    let calls = 0;
    const spy = vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      // The journal's own rename, the app dir and .env go through; the next one fails.
      if (++calls === 5) throw Object.assign(new Error('EIO: disk on fire'), { code: 'EIO' });
      return rename(from, to);
    });
    try {
      await expect(plan.commit()).rejects.toThrow(/disk on fire/);
    } finally {
      spy.mockRestore();
    }
    expect(snapshot()).toEqual(before);
  });

  it('cleans up its temporary files when writing fails', async () => {
    const plan = everyKind();
    const before = snapshot();
    const write = fs.writeFileSync;
    const spy = vi.spyOn(fs, 'writeFileSync').mockImplementation((file, data, opts) => {
      if (String(file).includes('.create-ovu-app/txn/1')) throw Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' });
      return write(file, data, opts as never);
    });
    try {
      await expect(plan.commit()).rejects.toThrow(/ENOSPC/);
    } finally {
      spy.mockRestore();
    }
    expect(snapshot()).toEqual(before);
  });

  it('after a crash at any rename, the next run rolls the workspace back to what it was', async () => {
    for (let crashAt = 2; crashAt <= 9; crashAt++) {
      vol.reset();
      vol.fromJSON({ '/ws/docker-compose.yml': 'services: {}\n', '/ws/.env': 'A=1\n' });
      const plan = everyKind();
      const before = snapshot();
      const rename = fs.renameSync;
      const rm = fs.rmSync;
      let calls = 0;
      let dead = false;
      // The process "dies" at rename #crashAt: nothing after it happens, the rollback included.
      const crash = () => {
        dead = true;
        throw new Error('killed');
      };
      const spies = [
        vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => (dead || ++calls === crashAt ? crash() : rename(from, to))),
        vi.spyOn(fs, 'rmSync').mockImplementation((p, o) => (dead ? crash() : rm(p, o))),
        vi.spyOn(fs, 'copyFileSync').mockImplementation(() => (dead ? crash() : undefined)),
      ];
      try {
        await expect(plan.commit()).rejects.toThrow();
      } finally {
        for (const s of spies) s.mockRestore();
      }
      const said = recover('/ws');
      expect(snapshot(), `crash at rename ${crashAt}`).toEqual(before);
      if (said) expect(said).toMatch(/rolled back an earlier run|finished cleaning up/);
    }
  });

  it('after a crash once the commit is complete, the next run only cleans up', async () => {
    const plan = everyKind();
    const rm = fs.rmSync;
    let dead = false;
    const spy = vi.spyOn(fs, 'rmSync').mockImplementation((p, o) => {
      // The journal says done; the process dies while removing the transaction's files.
      const journal = '/ws/.create-ovu-app/journal.json';
      if (String(p).endsWith('/txn') && fs.existsSync(journal) && fs.readFileSync(journal, 'utf8').includes('"done":true')) dead = true;
      if (dead) throw new Error('killed');
      return rm(p, o);
    });
    try {
      await expect(plan.commit()).rejects.toThrow('killed');
    } finally {
      spy.mockRestore();
    }
    expect(recover('/ws')).toMatch(/finished cleaning up after an earlier run \(pid \d+\) that had completed its changes/);
    expect(snapshot()).toEqual({
      '/ws/docker-compose.yml': 'services: {b: {}}\n',
      '/ws/.env': 'A=2\n',
      '/ws/app/backend/main.py': 'print(1)\n',
      '/ws/new/init-db.sql': 'x',
    });
  });
});

describe('Plan.moveDir (remove)', () => {
  beforeEach(() => {
    vol.fromJSON({ '/ws/app/.ovu-app.json': '{}', '/ws/app/backend/main.py': 'x', '/ws/apps.compose.yaml': 'include: [app/compose.yaml]\n' });
  });

  it('moves the directory whole and writes the other files, in one commit', async () => {
    const plan = newPlan();
    plan.write('/ws/apps.compose.yaml', 'include: []\n');
    plan.moveDir('/ws/app', '/ws/.create-ovu-app/removed/app-1');
    expect(plan.read('/ws/app/.ovu-app.json')).toBeUndefined();
    expect(plan.moved()).toEqual([{ from: '/ws/app', to: '/ws/.create-ovu-app/removed/app-1' }]);
    await plan.commit();
    const disk = snapshot();
    expect(disk['/ws/app/.ovu-app.json']).toBeUndefined();
    expect(disk['/ws/.create-ovu-app/removed/app-1/backend/main.py']).toBe('x');
    expect(disk['/ws/apps.compose.yaml']).toBe('include: []\n');
    expect(disk['/ws/.create-ovu-app/.gitignore']).toMatch(/^\*$/m);
    expect(disk['/ws/.create-ovu-app/journal.json']).toBeUndefined();
  });

  it('a crash at any rename leaves, after recovery, the workspace as it was', async () => {
    const before = snapshot();
    for (let crashAt = 1; crashAt <= 5; crashAt++) {
      vol.reset();
      vol.fromJSON(before as Record<string, string>);
      const plan = newPlan();
      plan.write('/ws/apps.compose.yaml', 'include: []\n');
      plan.moveDir('/ws/app', '/ws/.create-ovu-app/removed/app-1');
      const rename = fs.renameSync;
      let calls = 0;
      let dead = false;
      const crash = () => {
        dead = true;
        throw new Error('killed');
      };
      const spies = [
        vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => (dead || ++calls === crashAt ? crash() : rename(from, to))),
        vi.spyOn(fs, 'rmSync').mockImplementation(() => (dead ? crash() : undefined)),
      ];
      try {
        await expect(plan.commit()).rejects.toThrow();
      } finally {
        for (const s of spies) s.mockRestore();
      }
      recover('/ws');
      const after = snapshot();
      for (const [file, text] of Object.entries(before)) expect(after[file], `crash at rename ${crashAt}: ${file}`).toBe(text);
      expect(Object.keys(after).filter((f) => f.includes('/removed/')), `crash at rename ${crashAt}`).toEqual([]);
    }
  });
});
