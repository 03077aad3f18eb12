import { afterEach, describe, expect, it, vi } from 'vitest';
import { canAnimate, startStep } from '../../../src/cli/progress.ts';
import { colours } from '../../../src/cli/output.ts';
import { fitPreview } from '../../../src/cli/name-prompt.ts';

const plain = colours({}, {});

function fakeStream(columns = 80) {
  const writes: string[] = [];
  return { writes, stream: { write: (s: string) => writes.push(s), isTTY: true, columns } };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('startStep', () => {
  it('in a terminal: a spinner line redrawn in place with the elapsed time, then the final line over it', () => {
    vi.useFakeTimers();
    const { writes, stream } = fakeStream();
    const step = startStep('Installing x', { stream, colours: plain, live: true, verbose: false, interval: 100 });
    vi.advanceTimersByTime(1250);
    step.end(true, 'Installing x: done');
    expect(writes[0]).toBe('\r\x1b[2K⠋ Installing x (0.0s)');
    expect(writes).toContain('\r\x1b[2K⠙ Installing x (0.1s)');
    expect(writes.at(-3)).toBe('\r\x1b[2K⠹ Installing x (1.2s)');
    expect(writes.at(-2)).toBe('\r\x1b[2K');
    expect(writes.at(-1)).toBe('✔ Installing x: done (1.3s)\n');
    // Nothing is written once it ended.
    const count = writes.length;
    vi.advanceTimersByTime(1000);
    expect(writes).toHaveLength(count);
  });

  it('cuts a spinner line the terminal would wrap', () => {
    const { writes, stream } = fakeStream(30);
    startStep('Creating a_very_long_database_name_db and its login', { stream, colours: plain, live: true, verbose: false }).clear();
    expect(writes[0]!.replace('\r\x1b[2K', '').length).toBeLessThan(30);
  });

  it('elsewhere: only the final line, and with --verbose a start line before the tool output', () => {
    const quiet = fakeStream();
    startStep('Installing x', { stream: quiet.stream, colours: plain, live: false, verbose: false }).end(false, 'Installing x');
    expect(quiet.writes).toEqual([expect.stringMatching(/^✖ Installing x \(0\.\ds\)\n$/)]);
    const verbose = fakeStream();
    startStep('Installing x', { stream: verbose.stream, colours: plain, live: true, verbose: true }).end(true, 'Installing x');
    expect(verbose.writes).toEqual(['… Installing x\n', expect.stringMatching(/^✔ Installing x \(0\.\ds\)\n$/)]);
  });

  it('animates only a terminal that is not dumb, outside CI', () => {
    expect(canAnimate({ isTTY: true }, {})).toBe(true);
    expect(canAnimate({ isTTY: false }, {})).toBe(false);
    expect(canAnimate({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(canAnimate({ isTTY: true }, { CI: 'true' })).toBe(false);
  });
});

describe('fitPreview', () => {
  const parts = ['inventory-service/', 'database inventory_service_db', 'login inventory_service_user', 'service inventory-service-backend'];

  it('keeps one line when it fits', () => {
    expect(fitPreview(parts, 200)).toEqual([`  → ${parts.join(' · ')}`]);
  });

  it('breaks between parts, never inside one', () => {
    expect(fitPreview(parts, 79)).toEqual([
      '  → inventory-service/ · database inventory_service_db',
      '    · login inventory_service_user · service inventory-service-backend',
    ]);
    for (const l of fitPreview(parts, 40)) expect(l.length).toBeLessThanOrEqual(40);
  });
});
