import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Document, parse } from 'yaml';
import { plainScalar, yamlText, type Plain } from '../../../src/workspace/yaml-text.ts';
import { clusterManifest, workspaceKustomization } from '../../../src/workspace/k8s.ts';
import { appSpec } from '../../helpers/spec.ts';

/** What the `yaml` package writes for the same header and value: the oracle. */
function byPackage(header: string[], value: unknown): string {
  const doc = new Document(value);
  doc.commentBefore = header.map((l) => (l ? ` ${l}` : '')).join('\n');
  return doc.toString({ lineWidth: 0 });
}

describe('plainScalar: a value written without quotes only where the yaml package writes it so', () => {
  it('agrees with the package on names, numbers, ${VAR}s and what needs quotes', () => {
    const cases = ['inventory', 'inventory_db', 'app0001:app0001_db', '${A_B}', '${A', '5432', '1.5', 'true', 'yes', '', ' x', 'a: b', 'a #b', 'postgres:15', '-c', 'max_connections=3000', 8000, true];
    for (const v of cases) {
      const p = plainScalar(v);
      if (p !== undefined) expect(`k: ${p}\n`).toBe(new Document({ k: v }).toString({ lineWidth: 0 }));
    }
    expect(['inventory', '${A_B}', 8000].map(plainScalar)).toEqual(['inventory', '${A_B}', '8000']);
  });
});

describe('yamlText writes what the yaml package writes', () => {
  it('for the Cluster and the kustomization of a workspace', () => {
    const specs = [appSpec('inventory'), appSpec('orders', { processes: 3 }), appSpec('a-b-c', { stack: 'typescript' })];
    const apps = specs.map((spec) => ({ dir: spec.names.slug, spec }));
    for (const text of [clusterManifest(specs), workspaceKustomization(apps, [apps[2]!], true)]) {
      const header = text.slice(0, text.indexOf('\n\n')).split('\n').map((l) => l.replace(/^# ?/, ''));
      expect(text).toBe(byPackage(header, parse(text)));
    }
  });

  it('for strings that need quotes, empty collections, nested lists and maps', () => {
    const value: Plain = {
      plain: 'host all x_user all reject',
      colon: 'create-ovu-app: x',
      number: '2232',
      bool: 'true',
      empty: '',
      hash: 'a #b',
      list: [],
      map: {},
      nested: [{ a: 1, b: [1, 2], c: { d: 'e' } }, 'x', [1, 2]],
      'key.with/slash': false,
      ref: '${INVENTORY_DB_VERIFIER}',
      pair: 'inventory:inventory_db',
      port: 8000,
    };
    expect(yamlText(['one', '', 'two'], value)).toBe(byPackage(['one', '', 'two'], value));
  });

  it('for arbitrary keys and strings of the characters names and manifests are made of', () => {
    // Names, numbers as strings, paths, words with single spaces, "key: value", a # inside a word.
    const word = fc.stringMatching(/^(?:[a-z0-9_.\/-]{1,6}(?::[a-z0-9]{1,3})?(?:#[a-z]{1,2})?)(?:: ?| )?(?:[a-zA-Z0-9_.\/-]{1,6})?$/);
    const value = fc.dictionary(word, fc.oneof(word, fc.integer(), fc.boolean(), fc.array(word, { maxLength: 3 }), fc.dictionary(word, word, { maxKeys: 3 })), { maxKeys: 5 });
    fc.assert(fc.property(value, (v) => yamlText([], v as Plain) === byPackage([], v)), { numRuns: 300 });
  });
});
