import { describe, expect, it } from 'vitest';
import { engineWarnings, enginesNode, satisfies } from '../../../src/stacks/node-engines.ts';
import { renderBackend } from '../../../src/stacks/render.ts';
import { appSpec } from '../../helpers/spec.ts';

describe('node engines', () => {
  it.each([
    ['v20.17.0', '^22.12.0 || >=24.0.0', false],
    ['v20.20.0', '^22.12.0 || >=24', false],
    ['v22.11.0', '^22.12.0 || >=24.0.0', false],
    ['v22.12.0', '^22.12.0 || >=24.0.0', true],
    ['v23.1.0', '^22.12.0 || >=24.0.0', false],
    ['v24.21.0', '^22.12.0 || >=24.0.0', true],
    ['v20.17.0', '>=20.17', true],
    ['v20.16.0', '>=20.17', false],
    ['v20.19.1', '^20.19 || ^22.12 || >=24', true],
    ['v22.3.0', '>=20 <23', true],
    ['v23.0.0', '>=20 <23', false],
    ['v22.3.0', '22', true],
    ['v22.3.0', '~22.3.1', false],
    ['v22.3.5', '22.x', true],
  ])('%s satisfies %s: %s', (version, range, ok) => {
    expect(satisfies(version, range)).toBe(ok);
  });

  it("reads the TypeScript apps' engines, which the check uses", async () => {
    // As new-plan.ts reads it: from the rendered package.json (common's, with each kind's partials).
    for (const kind of ['crud', 'readonly'] as const) {
      const text = (await renderBackend(appSpec('inventory', { stack: 'typescript', kind }))).get('package.json');
      expect(enginesNode(text), kind).toBe('^22.13.0 || >=24.0.0');
    }
    expect(enginesNode('{"name":"x"}')).toBeUndefined();
  });

  it('keeps the engine warnings of an install, which is otherwise folded away', () => {
    const npm = 'added 200 packages\nnpm warn EBADENGINE Unsupported engine {\nnpm warn EBADENGINE   package: \'x@1.0.0\',\nnpm warn deprecated y';
    expect(engineWarnings(npm)).toEqual(['npm warn EBADENGINE Unsupported engine {', "npm warn EBADENGINE   package: 'x@1.0.0',"]);
    expect(engineWarnings('error x@1.0.0: The engine "node" is incompatible with this module.')).toHaveLength(1);
    expect(engineWarnings('added 1 package')).toEqual([]);
  });
});
