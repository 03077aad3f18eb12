/**
 * A small unified diff for --dry-run. Edits the generator makes are local (a block appended, a
 * service inserted), so trimming the common prefix and suffix first leaves a tiny middle for the
 * quadratic LCS, even on a compose file with hundreds of services.
 */
type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.replace(/\r$/, ''));
}

function lcsOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // Table of LCS lengths from the end; fine for the small middles this sees.
  const t: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (t[i + 1]![j]! >= t[i]![j + 1]!) {
      ops.push({ kind: '-', line: a[i++]! });
    } else {
      ops.push({ kind: '+', line: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: '-', line: a[i++]! });
  while (j < m) ops.push({ kind: '+', line: b[j++]! });
  return ops;
}

export function diffLines(before: string, after: string): Op[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  return [
    ...a.slice(0, start).map((line): Op => ({ kind: ' ', line })),
    ...lcsOps(a.slice(start, endA), b.slice(start, endB)),
    ...a.slice(endA).map((line): Op => ({ kind: ' ', line })),
  ];
}

/** Unified diff with `context` lines around each change, as `diff -u` prints it. */
export function unifiedDiff(before: string, after: string, label: string, context = 3): string {
  const ops = diffLines(before, after);
  const out: string[] = [`--- a/${label}`, `+++ b/${label}`];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++;
      continue;
    }
    // Grow a hunk until `2 * context` unchanged lines separate it from the next change.
    let end = i;
    for (let k = i; k < ops.length; k++) {
      if (ops[k]!.kind !== ' ') end = k;
      else if (k - end > 2 * context) break;
    }
    const from = Math.max(0, i - context);
    const to = Math.min(ops.length, end + context + 1);
    const oldStart = ops.slice(0, from).filter((o) => o.kind !== '+').length + 1;
    const newStart = ops.slice(0, from).filter((o) => o.kind !== '-').length + 1;
    const hunk = ops.slice(from, to);
    const oldLen = hunk.filter((o) => o.kind !== '+').length;
    const newLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${oldStart},${oldLen} +${newStart},${newLen} @@`);
    // A byte-order mark is invisible: named, so a diff that adds or drops one says so.
    for (const o of hunk) out.push(o.kind + o.line.replace(/^\uFEFF/, '<U+FEFF>'));
    i = to;
  }
  return out.join('\n');
}
