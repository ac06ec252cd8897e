import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';

/**
 * True where `column` contains `search`, ignoring case, with `%` and `_` in it matched
 * literally. SQLite's LIKE ignores ASCII case and PostgreSQL's does not, so both sides are
 * lower-cased: the same rows match on both. SQLite has no default LIKE escape character,
 * so the condition names one.
 */
export function containsText(column: string, search: string): RawBuilder<boolean> {
  const pattern = `%${search.replace(/[!%_]/g, (char) => `!${char}`)}%`;
  return sql<boolean>`lower(${sql.ref(column)}) like lower(${pattern}) escape '!'`;
}
