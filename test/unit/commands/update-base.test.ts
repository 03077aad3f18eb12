import { describe, expect, it } from 'vitest';
import { assertRelease, isRelease } from '../../../src/commands/update-base.ts';

describe('isRelease: only an exact create-ovu-app release is ever fetched', () => {
  it('takes X.Y.Z and X.Y.Z-pre, and nothing npm would resolve further', () => {
    for (const v of ['0.1.0', '1.22.333', '0.2.0-beta.1', '1.0.0-rc-2']) expect(isRelease(v), v).toBe(true);
    for (const v of ['file:../x', '../x', './x', '/abs', 'latest', 'next', '^0.1.0', '~0.1.0', '0.1', '0.1.x', '*', '>=0.1.0', '0.1.0 || 1.0.0', 'v0.1.0', '01.0.0', '0.1.0+build', 'github:a/b', 'git+https://x/y.git', 'https://x/y.tgz', 'npm:other@1.0.0', '1.0.0\n', ' 1.0.0', '', 1, null]) {
      expect(isRelease(v), JSON.stringify(v)).toBe(false);
    }
  });

  it('refuses another in one line that names the file and --base', () => {
    expect(() => assertRelease('file:inv/backend/tools', 'inv/.ovu-app.json')).toThrow(/^inv\/\.ovu-app\.json records version "file:inv\/backend\/tools", which is not a create-ovu-app release \(X\.Y\.Z\).*--base/);
    expect(() => assertRelease('1.0.0\nerror: x', 'a/.ovu-app.json')).toThrow(/^[^\n]+$/);
  });
});
