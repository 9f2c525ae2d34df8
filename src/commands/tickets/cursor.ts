/**
 * Keyset cursors for the ticket list: `next_cursor` names the last row of a page by its sort key
 * (the sort column's value, `created_at`, `id`), so the next page is an index range scan from
 * there instead of an OFFSET that reads and drops every earlier row. Opaque to clients
 * (base64url JSON); bound to the sort it was made for, so a cursor used with another sort is
 * refused instead of silently skipping or repeating rows.
 */
import { validationFailed } from '../../errors/index.js';

export interface ListCursor {
  /** the sort it belongs to (`sortSignature`) */
  sort: string;
  /** the last row's sort key values, as PostgreSQL printed them (exact: no float or µs rounding) */
  key: string[];
  /** rows before the page it starts: its `page` number for any page size */
  offset: number;
}

/** 422 naming the cursor parameter. */
export const invalidCursor = (message: string) => validationFailed([{ in: 'query', path: 'cursor', message }], 'The cursor is not valid.');

export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.key, cursor.offset])).toString('base64url');
}

/** The cursor a client sent back; anything else (edited, truncated, for another sort) is a 422. */
export function decodeCursor(text: string, sort: string, keyLength: number): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('Not a cursor this API issued; pass next_cursor from a previous page unchanged.');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    typeof parsed[0] !== 'string' ||
    !Array.isArray(parsed[1]) ||
    parsed[1].length !== keyLength ||
    !parsed[1].every((v) => typeof v === 'string' && v.length <= 300) ||
    !Number.isSafeInteger(parsed[2]) ||
    (parsed[2] as number) < 0
  ) {
    throw invalidCursor('Not a cursor this API issued; pass next_cursor from a previous page unchanged.');
  }
  if (parsed[0] !== sort)
    throw invalidCursor('This cursor belongs to another sort or search; keep sort_by, sort_order and search as they were.');
  return { sort, key: parsed[1] as string[], offset: parsed[2] as number };
}

/** One key of the ORDER BY: SQL expression (with its bindings), direction and type for a typed compare. */
export interface SortKey {
  sql: string;
  bindings: readonly unknown[];
  dir: 'asc' | 'desc';
  type: string;
}

/**
 * The WHERE clause "after this row" for a multi-key ORDER BY with mixed directions:
 * k0 ≷ v0 OR (k0 = v0 AND (k1 ≷ v1 OR (k1 = v1 AND …))), plus `k0 ≥/≤ v0` alone so the
 * planner can range-scan an index led by k0.
 */
export function keysetAfter(keys: readonly SortKey[], values: readonly string[]): { sql: string; bindings: unknown[] } {
  const bindings: unknown[] = [];
  const build = (i: number): string => {
    const k = keys[i]!;
    const cmp = k.dir === 'asc' ? '>' : '<';
    bindings.push(...k.bindings, values[i]);
    const strictly = `(${k.sql}) ${cmp} ?::${k.type}`;
    if (i === keys.length - 1) return strictly;
    bindings.push(...k.bindings, values[i]);
    return `(${strictly} OR ((${k.sql}) = ?::${k.type} AND ${build(i + 1)}))`;
  };
  const first = keys[0]!;
  const nested = build(0);
  const lead = `(${first.sql}) ${first.dir === 'asc' ? '>=' : '<='} ?::${first.type}`;
  return { sql: `${lead} AND ${nested}`, bindings: [...first.bindings, values[0], ...bindings] };
}
