/**
 * Which TCP ports some process on this machine listens on, and who, where the system says: a
 * host port docker cannot publish should not be offered, nor taken when given. Linux lists every
 * listening socket in /proc/net/tcp{,6}; elsewhere the candidate ports are tried with a bind.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface HostPorts {
  /** A process listens on `port` (on any address). */
  inUse(port: number): boolean;
  /** Who: `python3 (pid 1234)`, when the system says (its own processes, or any as root). */
  holder(port: number): string | undefined;
}

export const NO_HOST_PORTS: HostPorts = { inUse: () => false, holder: () => undefined };

/** Listening sockets from /proc/net/tcp and tcp6: port → socket inodes; undefined where there is no /proc. */
function procListening(proc: string): Map<number, string[]> | undefined {
  const found = new Map<number, string[]>();
  let read = false;
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(proc, 'net', file), 'utf8');
      read = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A: LISTEN
      const port = parseInt(cols[1]!.split(':').pop()!, 16);
      if (!Number.isInteger(port)) continue;
      found.set(port, [...(found.get(port) ?? []), cols[9]!]);
    }
  }
  return read ? found : undefined;
}

/** The process holding one of the socket inodes, by its open file descriptors. */
function procHolder(proc: string, inodes: string[]): string | undefined {
  const wanted = new Set(inodes.filter((i) => i !== '0').map((i) => `socket:[${i}]`));
  if (wanted.size === 0) return undefined;
  let pids: string[];
  try {
    pids = fs.readdirSync(proc).filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(path.join(proc, pid, 'fd'));
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(path.join(proc, pid, 'fd', fd));
      } catch {
        continue;
      }
      if (!wanted.has(target)) continue;
      let name = '';
      try {
        name = fs.readFileSync(path.join(proc, pid, 'comm'), 'utf8').trim();
      } catch {
        // gone meanwhile
      }
      return name ? `${name} (pid ${pid})` : `pid ${pid}`;
    }
  }
  return undefined;
}

/** Whether binding every IPv4 address on `port` fails because something holds it. */
function bindFails(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/**
 * The machine's listening ports. With /proc every port is known; without it, only `candidates`
 * are tried (those a default may pick, and the one given).
 */
export async function hostPorts(candidates: number[], proc = '/proc'): Promise<HostPorts> {
  const listening = procListening(proc);
  if (listening) {
    return {
      inUse: (port) => listening.has(port),
      holder: (port) => (listening.has(port) ? procHolder(proc, listening.get(port)!) : undefined),
    };
  }
  const unique = [...new Set(candidates)].filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
  const busy = new Set<number>();
  await Promise.all(unique.map(async (p) => (await bindFails(p)) && busy.add(p)));
  return { inUse: (port) => busy.has(port), holder: () => undefined };
}
