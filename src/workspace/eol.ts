/**
 * The line ending most of a file's lines use, for the lines an edit adds: a file keeps one style
 * even when a hand edit has mixed them. LF on a tie, for a file without line endings, or for no
 * file. Lone CRs are not line endings here (no editor writes them any more).
 */
export function dominantEol(text: string | undefined): '\n' | '\r\n' {
  // No CR at all (most files): one native scan answers, without counting a big file's lines.
  if (!text || !text.includes('\r')) return '\n';
  let crlf = 0;
  let lf = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (i > 0 && text.charCodeAt(i - 1) === 13) crlf++;
    else lf++;
  }
  return crlf > lf ? '\r\n' : '\n';
}
