/** The names create-ovu-app puts into SQL: plain lower-case identifiers within PostgreSQL's length limit. */

/** Names we generate and put into SQL: lower-case identifiers PostgreSQL never needs to quote. */
const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;

/** PostgreSQL truncates identifiers longer than NAMEDATALEN-1 = 63 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** `name` if it is such an identifier (ASCII only, so its length is its size in bytes), else an Error. */
export function assertIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER_PATTERN.test(name) || name.length > MAX_IDENTIFIER_BYTES) {
    throw new Error(
      `invalid ${what} ${JSON.stringify(name)}: must match [a-z_][a-z0-9_]* and be at most ${MAX_IDENTIFIER_BYTES} characters`,
    );
  }
  return name;
}
