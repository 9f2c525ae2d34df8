import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, keysetAfter, type SortKey } from '../../src/commands/tickets/cursor.js';

const keys: SortKey[] = [
  { sql: 'title', bindings: [], dir: 'asc', type: 'varchar' },
  { sql: 'created_at', bindings: [], dir: 'desc', type: 'timestamptz' },
  { sql: 'id', bindings: [], dir: 'asc', type: 'uuid' },
];

describe('list cursors', () => {
  it('round-trip their sort, key and offset', () => {
    const c = { sort: 'title:asc:', key: ['a', '2026-11-01 10:00:00.000001+00', 'x'], offset: 40 };
    expect(decodeCursor(encodeCursor(c), 'title:asc:', 3)).toEqual(c);
  });

  it('refuse damaged, foreign-sort and wrongly shaped cursors with a 422 naming the cursor', () => {
    const good = encodeCursor({ sort: 's', key: ['a', 'b'], offset: 0 });
    for (const [text, sort, len] of [
      ['!!!', 's', 2],
      [good.slice(0, -3), 's', 2],
      [good, 'other', 2],
      [good, 's', 3],
      [Buffer.from('["s",["a","b"],-1]').toString('base64url'), 's', 2],
      [Buffer.from('["s",["a",1],0]').toString('base64url'), 's', 2],
    ] as const) {
      expect(() => decodeCursor(text, sort, len)).toThrow(expect.objectContaining({ status: 422, code: 'validation_error' }));
    }
  });

  it('build "after this row" per direction, led by a range the index can scan', () => {
    const { sql, bindings } = keysetAfter(keys, ['T', 'C', 'I']);
    expect(sql).toBe(
      '(title) >= ?::varchar AND ((title) > ?::varchar OR ((title) = ?::varchar AND ((created_at) < ?::timestamptz OR ((created_at) = ?::timestamptz AND (id) > ?::uuid))))',
    );
    expect(bindings).toEqual(['T', 'T', 'T', 'C', 'C', 'I']);
  });
});
