import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostPorts } from '../../../src/host/ports.ts';
import { firstFreePort, QUESTIONS, validateAnswer, type WorkspaceFacts } from '../../../src/app/questions.ts';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, st: string, inode: number) => `   0: ${local} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

/** A /proc with two listening sockets (8001 on 127.0.0.1, 8003 on ::), one connection on 8002, and the process holding 8001. */
function fakeProc(): string {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-proc-'));
  fs.mkdirSync(path.join(proc, 'net'));
  fs.writeFileSync(path.join(proc, 'net', 'tcp'), HEADER + row('0100007F:1F41', '0A', 111) + row('0100007F:1F42', '01', 222));
  fs.writeFileSync(path.join(proc, 'net', 'tcp6'), HEADER + row('00000000000000000000000000000000:1F43', '0A', 333));
  fs.mkdirSync(path.join(proc, '4242', 'fd'), { recursive: true });
  fs.writeFileSync(path.join(proc, '4242', 'comm'), 'uvicorn\n');
  fs.symlinkSync('socket:[111]', path.join(proc, '4242', 'fd', '7'));
  fs.mkdirSync(path.join(proc, '77', 'fd'), { recursive: true });
  fs.symlinkSync('/dev/null', path.join(proc, '77', 'fd', '0'));
  return proc;
}

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function listen(host: string): Promise<number> {
  const server = net.createServer().listen(0, host);
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return (server.address() as net.AddressInfo).port;
}

describe('hostPorts', () => {
  it('reads the listening sockets of /proc/net/tcp and tcp6, and who holds one', async () => {
    const ports = await hostPorts([], fakeProc());
    expect([8000, 8001, 8002, 8003].map((p) => ports.inUse(p))).toEqual([false, true, false, true]);
    expect(ports.holder(8001)).toBe('uvicorn (pid 4242)');
    expect(ports.holder(8003)).toBeUndefined(); // no process we can see holds it
    expect(ports.holder(8000)).toBeUndefined();
  });

  it('tries the candidates with a bind where there is no /proc', async () => {
    const held = await listen('127.0.0.1');
    const ports = await hostPorts([held, held + 1], path.join(os.tmpdir(), 'no-such-proc'));
    expect(ports.inUse(held)).toBe(true);
    expect(ports.holder(held)).toBeUndefined();
  });

  it.runIf(fs.existsSync('/proc/net/tcp'))('finds a port this process listens on, and this process, on the real machine', async () => {
    const held = await listen('0.0.0.0');
    const ports = await hostPorts([]);
    expect(ports.inUse(held)).toBe(true);
    expect(ports.holder(held)).toMatch(new RegExp(`\\(pid ${process.pid}\\)$`));
  });
});

describe('the port question with the host ports', () => {
  const port = QUESTIONS.find((q) => q.key === 'port')!;
  const facts = async (over: Partial<WorkspaceFacts> = {}): Promise<WorkspaceFacts> => ({
    usedPorts: new Map([[8002, 'api']]),
    ownService: undefined,
    interactive: false,
    hostPorts: await hostPorts([], fakeProc()),
    ...over,
  });

  it('skips ports published in compose and ports a process listens on', async () => {
    // 8001 listening, 8002 in compose, 8003 listening: 8004.
    expect(firstFreePort(await facts())).toBe(8004);
    expect(firstFreePort(await facts({ hostPorts: undefined }))).toBe(8001);
  });

  it('refuses a given port a process listens on, naming it, and suggests a free one', async () => {
    expect(validateAnswer(port, 8001, {}, await facts())).toBe('Port 8001 is in use on this machine by uvicorn (pid 4242): pass another --port, e.g. 8004.');
    expect(validateAnswer(port, 8003, {}, await facts())).toBe('Port 8003 is in use on this machine: pass another --port, e.g. 8004.');
    expect(validateAnswer(port, 8004, {}, await facts())).toBeUndefined();
  });

  it('lets the app being replaced keep its port while it runs', async () => {
    const f = await facts({ usedPorts: new Map([[8001, 'inventory-backend']]), ownService: 'inventory-backend' });
    expect(validateAnswer(port, 8001, {}, f)).toBeUndefined();
    expect(firstFreePort(f)).toBe(8001);
  });
});
