/**
 * Validation of a parsed compose file against the Compose Specification's JSON Schema
 * (src/compose-spec.json, Apache-2.0, see compose-spec.LICENSE.md), through the standalone ajv
 * validator scripts/gen-compose-validator.mjs compiles from it. Turns ajv's errors into one
 * problem a user can act on; compose.ts maps the problem's path back to a line of the file.
 */
/*! compose-spec.json: the Compose Specification JSON Schema, Copyright The Compose Specification
 * Authors, Apache License 2.0, https://github.com/compose-spec/compose-spec (schema/compose-spec.json). */
import type { ErrorObject } from 'ajv';
import validate from '../../generated/compose-validate.js';

/** A path into the parsed compose object, e.g. ['services', 'api', 'ports', 0]. */
export type ComposePath = (string | number)[];

export interface SchemaProblem {
  /** Where the offending value is. */
  path: ComposePath;
  /** The offending key under `path` (unknown property), to point at its line. */
  key?: string;
  /** What is wrong, without file or line, e.g. "services.api has unknown property 'enviroment'". */
  message: string;
}

/** Checks `data` (the compose file as JSON) against the schema; undefined when it is valid. */
export function checkComposeSchema(data: unknown): SchemaProblem | undefined {
  if (validate(data)) return undefined;
  const errors = validate.errors ?? [];
  const best = pickError(errors);
  if (!best) return { path: [], message: 'does not match the Compose Specification' };
  return describe(best, errors);
}

/** Renders a path for messages: services.api.ports[0]. */
export function formatPath(path: ComposePath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function parsePointer(pointer: string): ComposePath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : seg));
}

const PRIORITY: Record<string, number> = {
  additionalProperties: 0,
  required: 1,
  enum: 2,
  const: 2,
  type: 3,
};
const SUMMARY = new Set(['oneOf', 'anyOf', 'allOf', 'if', 'not']);

/**
 * ajv reports every failed branch of every oneOf. The deepest concrete error is almost always the
 * one to fix (an unknown key inside `build: {…}` rather than "build must be a string").
 */
function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  const concrete = errors.filter((e) => !SUMMARY.has(e.keyword));
  const pool = concrete.length > 0 ? concrete : errors;
  let best: ErrorObject | undefined;
  let bestDepth = -1;
  let bestPrio = Infinity;
  for (const e of pool) {
    const depth = parsePointer(e.instancePath).length;
    const prio = PRIORITY[e.keyword] ?? 4;
    if (depth > bestDepth || (depth === bestDepth && prio < bestPrio)) {
      best = e;
      bestDepth = depth;
      bestPrio = prio;
    }
  }
  return best;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value)}`;
  return `${typeof value} ${String(value)}`;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'empty',
};

function describe(err: ErrorObject, all: ErrorObject[]): SchemaProblem {
  const path = parsePointer(err.instancePath);
  const where = path.length === 0 ? 'the top level' : formatPath(path);
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const parent = (err.parentSchema ?? {}) as Record<string, unknown>;
      const known = Object.keys((parent['properties'] as Record<string, unknown> | undefined) ?? {});
      if (known.length === 0) {
        const patterns = Object.keys((parent['patternProperties'] as Record<string, unknown> | undefined) ?? {});
        const allowed = patterns.filter((p) => p !== '^x-');
        return {
          path,
          key,
          message: `${where} has an invalid name '${key}'${allowed.length ? ` (names must match ${allowed.join(' or ')})` : ''}`,
        };
      }
      const suggestion = closest(key, known);
      const hint = suggestion ? ` (did you mean '${suggestion}'?)` : ' (remove it or fix its spelling)';
      const what = path.length === 0 ? `unknown top-level key '${key}'` : `${where} has unknown property '${key}'`;
      return { path, key, message: `${what}${hint}` };
    }
    case 'required':
      return { path, message: `${where} is missing required property '${String(params['missingProperty'])}'` };
    case 'type': {
      // Collect every type ajv accepted at this spot (one error per oneOf branch).
      const types = new Set<string>();
      for (const e of all) {
        if (e.keyword === 'type' && e.instancePath === err.instancePath) {
          const t = (e.params as { type: string | string[] }).type;
          for (const one of Array.isArray(t) ? t : [t]) types.add(TYPE_WORDS[one] ?? one);
        }
      }
      return { path, message: `${where} must be ${[...types].join(' or ')}, not ${jsonType(err.data)}` };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { path, message: `${where} must be one of ${allowed}, not ${jsonType(err.data)}` };
    }
    case 'const':
      return { path, message: `${where} must be ${JSON.stringify(params['allowedValue'])}` };
    default:
      return { path, message: `${where} ${err.message ?? 'is invalid'}` };
  }
}

/** The known name nearest to a misspelt one (edit distance ≤ 2, or ≤ 1 for short names). */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = word.length <= 4 ? 1 : 2;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d <= bestDist && (best === undefined || d < bestDist)) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
