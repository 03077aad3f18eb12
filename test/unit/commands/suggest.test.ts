import { describe, expect, it } from 'vitest';
import { suggestCommand } from '../../../src/commands/suggest.ts';

const npm = { name: 'npm' as const };

describe('suggestCommand', () => {
  it('starts with the runner of the package manager that ran us', () => {
    expect(suggestCommand({ pm: npm }, ['provision', 'inventory'])).toBe('npx create-ovu-app provision inventory');
    expect(suggestCommand({ pm: { name: 'pnpm', major: 9 } }, ['provision', 'inventory'])).toBe('pnpm dlx create-ovu-app provision inventory');
    expect(suggestCommand({ pm: { name: 'bun', major: 1 } }, ['x'])).toBe('bunx create-ovu-app x');
  });

  it('keeps the --workspace given, quoted for the shell, or the one passed, or none', () => {
    const inv = { pm: npm, workspace: '../my platform' };
    expect(suggestCommand(inv, ['provision', 'inventory'])).toBe("npx create-ovu-app provision inventory --workspace '../my platform'");
    expect(suggestCommand(inv, ['provision', 'inventory'], { workspace: '../..' })).toBe('npx create-ovu-app provision inventory --workspace ../..');
    expect(suggestCommand(inv, ['provision', 'inventory'], { workspace: null })).toBe('npx create-ovu-app provision inventory');
  });

  it('keeps --admin-url when asked to, without its password, and says where the password comes from', () => {
    const inv = { pm: npm, adminUrl: 'postgresql://admin:s3cret@db.example:5433/postgres?sslmode=require' };
    const cmd = suggestCommand(inv, ['provision', 'inventory'], { adminUrl: true });
    expect(cmd).toBe("npx create-ovu-app provision inventory --admin-url 'postgresql://admin@db.example:5433/postgres?sslmode=require'   # with PGPASSWORD set: the password is not repeated here");
    expect(cmd).not.toContain('s3cret');
    expect(suggestCommand(inv, ['provision', 'inventory'])).toBe('npx create-ovu-app provision inventory');
    const noPassword = { pm: npm, adminUrl: 'postgresql://admin@localhost:5432/postgres' };
    expect(suggestCommand(noPassword, ['provision', 'x'], { adminUrl: true, comment: 'creates x_db' })).toBe(
      'npx create-ovu-app provision x --admin-url postgresql://admin@localhost:5432/postgres   # creates x_db',
    );
  });
});
