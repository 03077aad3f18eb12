/** Error text for UserError messages: one line, no secrets, the PostgreSQL or system error code kept. */

/** One line, no secrets. */
export function oneLine(message: string, secrets: string[]): string {
  let text = message;
  for (const secret of secrets) {
    if (secret.length >= 3) text = text.split(secret).join('***');
  }
  return text.replace(/\s+/g, ' ').trim();
}

/** The error's code (a SQLSTATE such as 28P01, or a system code such as ECONNREFUSED), if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The message followed by ` (code)` when there is a code. */
export function messageWithCode(error: unknown): string {
  const code = errorCode(error);
  return `${errorMessage(error)}${code ? ` (${code})` : ''}`;
}
