import { vi } from 'vitest';
import type * as NodeFs from 'node:fs';
import { TEMPLATES_DIR } from '../../src/stacks/template-source.ts';

/**
 * The real templates as a memfs volume (path → content), read from the real disk even while a
 * test file mocks node:fs: unit tests that render need them at the same absolute paths.
 */
export async function realTemplates(): Promise<Record<string, string>> {
  const fs = await vi.importActual<typeof NodeFs>('node:fs');
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(TEMPLATES_DIR, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[`${e.parentPath}/${e.name}`] = fs.readFileSync(`${e.parentPath}/${e.name}`, 'utf8');
  }
  return out;
}
