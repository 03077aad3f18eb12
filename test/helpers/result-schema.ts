/** The --json result checked against the JSON Schema the package ships (schema/result-v1.schema.json). */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { ROOT } from './cli.ts';

export const RESULT_SCHEMA_FILE = path.join(ROOT, 'schema', 'result-v1.schema.json');
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(fs.readFileSync(RESULT_SCHEMA_FILE, 'utf8')));

/** What the schema says is wrong with `value`, one line each; empty when it accepts it. */
export function resultErrors(value: unknown): string[] {
  return validate(value) ? [] : validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Parses stdout as one JSON object and fails, naming each violation, unless the schema accepts it. */
export function expectResult(stdout: string): Record<string, any> {
  const value = JSON.parse(stdout) as Record<string, any>;
  expect(resultErrors(value), stdout).toEqual([]);
  return value;
}
