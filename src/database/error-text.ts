/** Error text for UserError messages: one line, no secrets, no raw SQLSTATE. */

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

/** A SQLSTATE (five characters, digits and capitals), as opposed to a system error code. */
export function isSqlState(code: string | undefined): boolean {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * The message followed by ` (code)` for a system error (ECONNRESET …); a SQLSTATE is replaced by
 * what it means for the user where we know it, and left out otherwise.
 */
export function messageWithCode(error: unknown): string {
  const code = errorCode(error);
  const message = errorMessage(error);
  if (!isSqlState(code)) return `${message}${code ? ` (${code})` : ''}`;
  switch (code) {
    case 'XX000': // tuple concurrently updated
    case '23505': // duplicate key (two CREATE ROLE at once)
    case '40001':
    case '40P01':
      return `${message}: another session changed the same objects at the same moment; run it again`;
    case '53300':
      return `${message}: the server has no free connection slots`;
    case '57014':
      return `${message}: the statement was cancelled`;
    default:
      return message;
  }
}
