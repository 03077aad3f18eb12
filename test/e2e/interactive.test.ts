// The interactive path, through a real pseudo-terminal: the built CLI runs in a tmux pane, keys are
// typed with send-keys and the screen is read with capture-pane, as a person would see it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { adrWorkspace, BIN, runCli, snapshotDir } from '../helpers/cli.ts';
import { withClient } from '../helpers/postgres.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';

const TMUX = process.env.OVU_TMUX ?? 'tmux';

function tmuxAvailable(): string | undefined {
  try {
    return execFileSync(TMUX, ['-V'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

let sessions = 0;

/** One tmux server (its own socket) running one CLI invocation in a 120×40 pane. */
class Terminal {
  readonly socket = `ovu-e2e-${process.pid}-${++sessions}`;
  private alive = true;
  private socketPath = '';

  constructor(args: string[], cwd: string) {
    // The pane runs the CLI directly (no interactive shell echoing a command line), prints its exit
    // code, then stays open so the final screen can still be read. CI is removed: CI=true (as in
    // .ci/run) turns prompting off.
    const script = '"$@"; echo "EXIT=$?"; exec sleep 3600';
    this.tmux('-u', '-f', '/dev/null', 'new-session', '-d', '-s', 'ovu', '-x', '120', '-y', '40', '-c', cwd, '--',
      'env', '-u', 'CI', '-u', 'FORCE_COLOR', 'NO_COLOR=1', 'TERM=xterm-256color',
      'sh', '-c', script, 'sh', process.execPath, BIN, ...args);
    this.socketPath = this.tmux('display-message', '-p', '-t', 'ovu', '#{socket_path}').trim();
  }

  private tmux(...args: string[]): string {
    return execFileSync(TMUX, ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The whole pane, scroll-back included, wrapped lines joined, trailing blanks dropped. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'ovu').replace(/\s+$/, '');
  }

  /** Types text literally (no key-name lookup). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'ovu', '-l', text);
  }

  /** Presses named keys: Enter, BSpace, C-c, Down… */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'ovu', ...keys);
  }

  /** Polls the screen until `pattern` shows up; on timeout fails saying what it waited for, with the screen. */
  async waitFor(pattern: RegExp | string, what: string, timeoutMs = 15_000): Promise<string> {
    const test = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = this.screen();
      if (test(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${String(pattern)}). The screen:\n${last}\n--- end of screen`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the prompt line `? <message>` (the prompt is live and reading keys). */
  prompt(message: string): Promise<string> {
    return this.waitFor(`? ${message}`, `the prompt "${message}"`);
  }

  /** Waits for the CLI to end; returns its exit code and the final screen. */
  async exit(timeoutMs = 30_000): Promise<{ code: number; screen: string }> {
    const screen = await this.waitFor(/^EXIT=\d+$/m, 'the CLI to exit', timeoutMs);
    return { code: Number(/^EXIT=(\d+)$/m.exec(screen)![1]), screen };
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    // tmux leaves its socket file behind.
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true });
  }
}

const open: Terminal[] = [];
function start(args: string[], cwd: string): Terminal {
  const t = new Terminal(args, cwd);
  open.push(t);
  return t;
}

afterEach(() => {
  for (const t of open.splice(0)) t.kill();
});

/** Presses Enter at each prompt in turn (the defaults), answering `n` to install and create-db. */
async function acceptDefaults(t: Terminal): Promise<void> {
  await t.prompt('Backend stack');
  t.press('Enter');
  await t.prompt('Kind of app');
  t.press('Enter');
  await t.prompt('Host port for the backend (8001)');
  t.press('Enter');
  await t.prompt('Customise advanced settings (DB pool, ULM URL)? (y/N)');
  t.press('Enter');
  await t.prompt("Install the app's dependencies now?");
  t.type('n');
  t.press('Enter');
  await t.prompt('Create the database and login on your local PostgreSQL now? (y/N)');
  t.press('Enter');
}

describe.runIf(process.platform !== 'win32')('interactive prompts in a real terminal (tmux)', () => {
  it('has tmux to drive the terminal', () => {
    expect(tmuxAvailable(), `${TMUX} not found: install tmux (apt-get install tmux) to run the interactive tests`).toMatch(/^tmux /);
  });

  it('asks every question, shows the derived names while typing, confirms the plan and writes the app', async () => {
    const ws = adrWorkspace();
    const t = start([], ws);

    await t.prompt('App name');
    t.type('invent');
    // Live, before Enter: what the name becomes.
    await t.waitFor('invent/ · database invent_db · login invent_user · service invent-backend', 'the derived names of "invent"');
    t.type('ory');
    const typing = await t.waitFor('database inventory_db', 'the derived names of "inventory"');
    expect(typing).toContain('? App name inventory  → inventory/ · database inventory_db · login inventory_user · service inventory-backend');
    expect(fs.readdirSync(ws)).toEqual(['docker-compose.yml']);
    t.press('Enter');

    await acceptDefaults(t);

    const plan = await t.prompt('Write these files? (Y/n)');
    expect(plan).toContain('✔ App name inventory\n');
    expect(plan).toContain(`inventory (python, crud) will be written to ${ws}:`);
    expect(plan).toContain('backend/ (');
    expect(plan).toContain('changed: docker-compose.yml');
    expect(plan).toContain('service   inventory-backend on port 8001');
    expect(plan).toContain('database  inventory_db, login inventory_user, password in .env as INVENTORY_DB_PASSWORD');
    // Nothing is written before the confirmation.
    expect(fs.readdirSync(ws)).toEqual(['docker-compose.yml']);
    t.press('Enter');

    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(screen).toContain('✔ Write these files? Yes');
    expect(screen).toContain(`✔ Created inventory (python, crud) in ${ws}`);
    expect(screen).toMatch(/Next steps:\n {2}cd inventory\/backend\n {2}python3 -m venv \.venv/);
    expect(screen).toContain('npx create-ovu-app provision inventory --migrate');
    expect(screen).not.toMatch(/crashed|error:/);

    expect(fs.existsSync(path.join(ws, 'inventory/backend/app/main.py'))).toBe(true);
    expect(fs.existsSync(path.join(ws, 'inventory/backend/.venv'))).toBe(false); // install: no
    const saved = JSON.parse(fs.readFileSync(path.join(ws, 'inventory/.ovu-app.json'), 'utf8'));
    expect(saved.answers).toEqual({ name: 'inventory', stack: 'python', kind: 'crud', port: 8001, dbPoolSize: 5, dbMaxOverflow: 5, dbPoolTimeout: 30, processes: 1, ulmUrl: 'http://ulm-backend:8000' });
    expect(fs.readFileSync(path.join(ws, 'docker-compose.yml'), 'utf8')).toMatch(/^ {2}- inventory\/compose\.yaml$/m);
    expect(fs.readFileSync(path.join(ws, 'inventory/compose.yaml'), 'utf8')).toMatch(/^ {2}inventory-backend:$/m);
  });

  it('shows why a bad name is refused, in place, and takes the corrected one', async () => {
    const ws = adrWorkspace();
    const t = start(['--workspace', ws], ws);

    await t.prompt('App name');
    t.type('2fa');
    const typed = await t.waitFor('? App name 2fa', 'the typed "2fa"');
    // An invalid name derives nothing: just what was typed, no dangling "→".
    expect(typed).toMatch(/^\? App name 2fa$/m);
    t.press('Enter');
    const refused = await t.waitFor('starts with a digit', 'the validation message for "2fa"');
    expect(refused).toContain('"2fa" starts with a digit');
    expect(refused).toContain('e.g. `app-2fa`');
    // Still the same prompt, still running: no exit, no "✔ App name".
    expect(refused).not.toMatch(/^EXIT=/m);
    expect(refused).not.toContain('✔ App name');

    t.press('BSpace', 'BSpace', 'BSpace');
    t.type('select');
    t.press('Enter');
    await t.waitFor('"select" is a PostgreSQL reserved word', 'the validation message for "select"');

    t.press(...Array<string>(6).fill('BSpace'));
    t.type('Stock Keeper');
    await t.waitFor('database stock_keeper_db', 'the derived names of "Stock Keeper"');
    t.press('Enter');
    await t.waitFor('✔ App name Stock Keeper', 'the accepted name');

    await acceptDefaults(t);
    await t.prompt('Write these files? (Y/n)');
    t.type('y');
    t.press('Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(fs.existsSync(path.join(ws, 'stock-keeper/backend/app/main.py'))).toBe(true);
    expect(fs.existsSync(path.join(ws, '2fa'))).toBe(false);
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).toMatch(/^STOCK_KEEPER_DB_PASSWORD=[\w-]{43}$/m);
  });

  it.each([
    ['the name prompt', async (t: Terminal) => {
      await t.prompt('App name');
      t.type('inventory');
      await t.waitFor('database inventory_db', 'the derived names');
    }],
    ['a choice prompt', async (t: Terminal) => {
      await t.prompt('App name');
      t.type('inventory');
      t.press('Enter');
      await t.prompt('Backend stack');
      t.press('Down');
      await t.waitFor('❯ TypeScript', 'the cursor on TypeScript');
    }],
    ['the final confirmation', async (t: Terminal) => {
      await t.prompt('App name');
      t.type('inventory');
      t.press('Enter');
      await acceptDefaults(t);
      await t.prompt('Write these files?');
    }],
  ])('Ctrl-C at %s exits 130 and leaves the workspace byte-for-byte as it was', async (_where, reach) => {
    const ws = adrWorkspace();
    fs.writeFileSync(path.join(ws, '.env'), 'EXISTING=1\n', { mode: 0o600 });
    const before = snapshotDir(ws);
    const t = start(['--workspace', ws], ws);
    await reach(t);
    t.press('C-c');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(130);
    expect(screen).toContain('Cancelled: nothing was written.');
    expect(screen).not.toMatch(/crashed|\n\s+at /);
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('declining the plan exits 130 and writes nothing', async () => {
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const t = start(['inventory', '--workspace', ws], ws);
    // The name was given as an argument: the first question is the stack.
    await acceptDefaults(t);
    const plan = await t.prompt('Write these files? (Y/n)');
    expect(plan).not.toContain('? App name');
    expect(plan).toContain('inventory (python, crud) will be written to');
    t.type('n');
    t.press('Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(130);
    expect(screen).toContain('✔ Write these files? No');
    expect(screen).toContain('Cancelled: nothing was written.');
    expect(screen).not.toContain('✔ Created');
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('provision shows the SQL it will run (password hidden) and asks; No changes nothing, Yes runs it', async () => {
    const adminUrl = inject('adminUrl');
    const app = `ask${randomBytes(3).toString('hex')}`;
    const ws = adrWorkspace();
    expect((await runCli([app, '--yes', '--workspace', ws])).exitCode).toBe(0);
    const password = readEnvVar(fs.readFileSync(path.join(ws, '.env'), 'utf8'), `${app.toUpperCase()}_DB_PASSWORD`)!;
    const roleExists = () => withClient(adminUrl, async (c) => (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${app}_user`])).rowCount === 1);

    const no = start(['provision', app, '--admin-url', adminUrl, '--workspace', ws], ws);
    const plan = await no.prompt('Run these statements on the server? (y/N)');
    expect(plan).toContain(`CREATE ROLE "${app}_user" LOGIN PASSWORD '***'`);
    expect(plan).toContain('Server-wide changes');
    expect(plan).not.toContain(password);
    expect(plan).not.toContain(decodeURIComponent(new URL(adminUrl).password));
    no.type('n');
    no.press('Enter');
    const declined = await no.exit();
    expect(declined.code, declined.screen).toBe(130);
    expect(declined.screen).toContain('Cancelled: nothing was changed on the server.');
    expect(await roleExists()).toBe(false);

    const yes = start(['provision', app, '--admin-url', adminUrl, '--workspace', ws], ws);
    await yes.prompt('Run these statements on the server? (y/N)');
    yes.type('y');
    yes.press('Enter');
    const done = await yes.exit();
    expect(done.code, done.screen).toBe(0);
    expect(done.screen).toContain(`✔ ${app}_db is ready for ${app}_user.`);
    expect(await roleExists()).toBe(true);
  });
});
