import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RESULT_SCHEMA_VERSION, resultJson } from '../../../src/cli/report.ts';
import { expectResult, RESULT_SCHEMA_FILE, resultErrors } from '../../helpers/result-schema.ts';

describe('the --json result', () => {
  it('has the version its shipped schema describes', () => {
    const schema = JSON.parse(fs.readFileSync(RESULT_SCHEMA_FILE, 'utf8'));
    expect(schema.properties.schemaVersion.const).toBe(RESULT_SCHEMA_VERSION);
    expect(schema.$id).toBe(`create-ovu-app/schema/result-v${RESULT_SCHEMA_VERSION}.schema.json`);
  });

  it('is a complete object of the schema even for an error that knows nothing yet', () => {
    const out = expectResult(JSON.stringify(resultJson({ command: 'provision', exitCode: 2, error: 'Missing the app name' })));
    expect(out).toEqual({
      schemaVersion: 1,
      command: 'provision',
      ok: false,
      exitCode: 2,
      dryRun: false,
      workspace: null,
      app: null,
      written: false,
      changes: { created: [], changed: [] },
      notes: [],
      steps: [],
      provision: null,
      nextSteps: [],
      error: { message: 'Missing the app name', exitCode: 2 },
    });
  });

  it('is refused by the schema when a field is missing or unknown', () => {
    const good = resultJson({ command: 'new', exitCode: 0 });
    const { written: _, ...missing } = good;
    expect(resultErrors(good)).toEqual([]);
    expect(resultErrors(missing)).toEqual(['/ must have required property \'written\' {"missingProperty":"written"}']);
    expect(resultErrors({ ...good, extra: 1 })).toEqual(['/ must NOT have additional properties {"additionalProperty":"extra"}']);
    expect(resultErrors({ ...good, schemaVersion: 2 })).toHaveLength(1);
  });
});
