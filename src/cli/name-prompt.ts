/**
 * The app name prompt: a text input that shows, live under the line being typed, what the name
 * turns into. The preview is the prompt's bottom content, so the cursor stays in the typed text
 * (Left-arrow edits land where they are seen), and it is broken between its parts to fit the
 * terminal, never inside a name.
 */
import { createPrompt, isEnterKey, makeTheme, useKeypress, usePrefix, useState, type Status } from '@inquirer/core';

export interface NamePromptConfig {
  message: string;
  /** The live preview of a value, as separate parts; none when the value derives nothing. */
  preview: (value: string) => string[];
  validate: (value: string) => true | string;
}

/** Parts joined with " · ", broken into lines of at most `width` columns between parts. */
export function fitPreview(parts: string[], width: number, lead = '  → ', cont = '    '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    const next = line ? `${line} · ${part}` : `${lead}${part}`;
    if (line && next.length > width) {
      lines.push(line);
      line = `${cont}· ${part}`;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export const namePrompt = createPrompt<string, NamePromptConfig>((config, done) => {
  const theme = makeTheme();
  const [status, setStatus] = useState<Status>('idle');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const prefix = usePrefix({ status, theme });

  useKeypress((key, rl) => {
    if (status !== 'idle') return;
    if (isEnterKey(key)) {
      const answer = value.trim();
      const valid = answer ? config.validate(answer) : 'Enter a name for the app, e.g. inventory.';
      if (valid === true) {
        setValue(answer);
        setStatus('done');
        done(answer);
      } else {
        // Enter cleared readline's line: put the text back to be fixed.
        rl.write(value);
        setError(valid);
      }
    } else {
      setValue(rl.line);
      setError(undefined);
    }
  });

  const message = theme.style.message(config.message, status);
  if (status === 'done') return `${prefix} ${message} ${theme.style.answer(value)}`;
  const width = Math.max(20, (process.stdout.columns || 80) - 1);
  const below = [...(value ? fitPreview(config.preview(value), width).map((l) => theme.style.help(l)) : []), ...(error ? [theme.style.error(error)] : [])];
  return [`${prefix} ${message} ${value}`, below.join('\n')];
});
