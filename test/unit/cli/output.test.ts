import { describe, expect, it } from 'vitest';
import { colours, useColour } from '../../../src/cli/output.ts';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('useColour', () => {
  it.each([
    // [stream, env, expected]
    [tty, {}, true],
    [pipe, {}, false],
    [tty, { NO_COLOR: '1' }, false],
    // no-color.org: an empty NO_COLOR does not count.
    [tty, { NO_COLOR: '' }, true],
    [tty, { NODE_DISABLE_COLORS: '1' }, false],
    [tty, { TERM: 'dumb' }, false],
    [tty, { TERM: 'xterm-256color' }, true],
    [pipe, { FORCE_COLOR: '1' }, true],
    [pipe, { FORCE_COLOR: '2' }, true],
    [pipe, { FORCE_COLOR: '3' }, true],
    [pipe, { FORCE_COLOR: '' }, true],
    [pipe, { FORCE_COLOR: 'true' }, true],
    [tty, { FORCE_COLOR: '0' }, false],
    [tty, { FORCE_COLOR: 'false' }, false],
    // FORCE_COLOR decides over the others, as in Node.js's own tty.getColorDepth().
    [pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
    [pipe, { FORCE_COLOR: '1', TERM: 'dumb' }, true],
    [tty, { FORCE_COLOR: '0', TERM: 'xterm' }, false],
  ] as const)('%j with %j: %s', (stream, env, expected) => {
    expect(useColour(stream, env as NodeJS.ProcessEnv)).toBe(expected);
  });

  it('colours only when on', () => {
    expect(colours(pipe, { FORCE_COLOR: '1' }).green('ok')).toBe('\x1b[32mok\x1b[39m');
    expect(colours(tty, { NO_COLOR: '1' }).green('ok')).toBe('ok');
  });
});
