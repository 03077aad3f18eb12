import { dominantEol } from './eol.ts';

const LINE = /^\uFEFF?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/** The variable a dotenv line assigns (`KEY=…`, `export KEY=…`); undefined for a comment, a blank or anything else. */
export function envKeyOf(line: string): string | undefined {
  return LINE.exec(line)?.[1];
}

/** The value of `key` in a dotenv file, unquoted; undefined when absent. */
export function readEnvVar(source: string | undefined, key: string): string | undefined {
  if (!source) return undefined;
  let found: string | undefined;
  // Only the lines that hold the key can assign it: a big file (every app's verifier) is not split.
  for (let i = source.indexOf(key); i !== -1; ) {
    const start = source.lastIndexOf('\n', i) + 1;
    const lf = source.indexOf('\n', i);
    const end = lf === -1 ? source.length : lf;
    i = source.indexOf(key, end);
    const line = source.slice(start, source[end - 1] === '\r' ? end - 1 : end);
    const m = LINE.exec(line);
    if (!m || m[1] !== key) continue;
    let value = m[2]!;
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    found = value; // dotenv semantics: the last assignment wins
  }
  return found;
}

/**
 * A value as a .env line holds it literally for every reader, Compose included: Compose expands
 * `$` in unquoted and double-quoted values (a SCRAM verifier has two), but not in single quotes.
 */
function envValue(value: string): string {
  if (/^[A-Za-z0-9_./:@%+,=-]*$/.test(value)) return value;
  if (value.includes("'") || /[\r\n]/.test(value)) throw new Error(`internal error: cannot write ${JSON.stringify(value)} literally in .env`);
  return `'${value}'`;
}

/**
 * Appends `key=value` (after an optional comment) unless the key is already set: an existing
 * value, such as a password a running database already uses, is never replaced.
 */
export function ensureEnvVar(source: string | undefined, key: string, value: string, comment?: string): string {
  if (readEnvVar(source, key) !== undefined) return source ?? '';
  return appendLines(source, [...(comment ? [`# ${comment}`] : []), `${key}=${envValue(value)}`]);
}

/** Appends `line` unless an identical line exists (used for .gitignore entries). */
export function ensureLine(source: string | undefined, line: string, alternatives: string[] = []): string {
  const lines = (source ?? '').split(/\r?\n/).map((l) => l.trim());
  if ([line, ...alternatives].some((l) => lines.includes(l))) return source ?? '';
  return appendLines(source, [line]);
}

function appendLines(source: string | undefined, lines: string[]): string {
  const eol = dominantEol(source);
  let text = source ?? '';
  if (text && !text.endsWith('\n')) text += eol;
  // A blank line keeps our entry visually apart from whatever the user wrote last.
  if (text && !/(\r?\n){2}$/.test(text) && lines[0]?.startsWith('#')) text += eol;
  return text + lines.join(eol) + eol;
}

/**
 * Sets `key=value`: the last assignment of `key` is replaced in place (its line ending kept), or
 * the line is appended (after an optional comment) when there is none.
 */
export function setEnvVar(source: string | undefined, key: string, value: string, comment?: string): string {
  if (readEnvVar(source, key) === undefined) return appendLines(source, [...(comment ? [`# ${comment}`] : []), `${key}=${envValue(value)}`]);
  const text = source ?? '';
  const parts = text.split(/(\r?\n)/);
  for (let i = parts.length - 1; i >= 0; i -= 1) {
    const m = LINE.exec(parts[i]!);
    if (m && m[1] === key) {
      parts[i] = `${key}=${envValue(value)}`;
      break;
    }
  }
  return parts.join('');
}

/**
 * Removes every assignment of `key`, with the comment line create-ovu-app wrote above it (one that
 * starts with `# <commentPrefix>`) and the blank line that kept that entry apart; every other byte
 * stays. The inverse of `ensureEnvVar`/`setEnvVar` appending an entry.
 */
export function removeEnvVar(source: string | undefined, key: string, commentPrefix: string): string | undefined {
  if (source === undefined || readEnvVar(source, key) === undefined) return source;
  // [line, terminator] pairs, so that untouched lines keep their own line endings.
  const parts = source.split(/(\r?\n)/);
  const lines: { text: string; eol: string }[] = [];
  for (let i = 0; i < parts.length; i += 2) lines.push({ text: parts[i]!, eol: parts[i + 1] ?? '' });
  if (lines.length > 1 && lines.at(-1)!.text === '' && lines.at(-1)!.eol === '') lines.pop();
  const isBlank = (i: number): boolean => i >= 0 && i < lines.length && lines[i]!.text.trim() === '';
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const m = LINE.exec(lines[i]!.text);
    if (!m || m[1] !== key) continue;
    let start = i;
    let end = i;
    if (start > 0 && lines[start - 1]!.text.startsWith(`# ${commentPrefix}`)) start -= 1;
    if (isBlank(start - 1)) start -= 1;
    else if (start === 0 && isBlank(end + 1)) end += 1;
    // The file's last line keeps having no line ending when it had none.
    if (end === lines.length - 1 && start > 0 && lines[end]!.eol === '') lines[start - 1]!.eol = '';
    lines.splice(start, end - start + 1);
    i = start;
  }
  return lines.map((l) => l.text + l.eol).join('');
}
