/**
 * Text PostgreSQL cannot store: NUL (U+0000), which `text` and `jsonb` refuse (SQLSTATE 22021 /
 * 22P05), and lone UTF-16 surrogates (U+D800–U+DFFF not in a pair), which have no UTF-8 form.
 * One walker finds them anywhere in a value — strings and object keys, nested in arrays and
 * objects — so REST (body, query, path, headers), multipart and MCP refuse them the same way.
 */

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether PostgreSQL can store this string as text (no NUL, no lone surrogate). */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

export interface UnstorableText {
  /** where the value came from: `body`, `query`, `path`, `header`, `arguments` */
  in: string;
  /** dotted path inside it, e.g. `tags.1` (as validation details name fields) */
  path: string;
  /** the two together, e.g. `body.tags.1`, `query.search`, `header.idempotency-key` */
  field: string;
  message: string;
}

const MESSAGE = 'contains a character that cannot be stored (NUL U+0000 or an unpaired surrogate U+D800–U+DFFF)';
const MAX_FINDINGS = 20;

/**
 * Every place in `value` (found in `where`) holding unstorable text, at most 20. Object keys are
 * checked too (an offending key is named JSON-escaped, so the report itself is storable).
 */
export function findUnstorableText(value: unknown, where: string): UnstorableText[] {
  const found: UnstorableText[] = [];
  const report = (at: Step | null, message: string) => {
    const segments: string[] = [];
    for (let s = at; s; s = s.parent) segments.push(s.key);
    const p = segments.reverse().join('.');
    found.push({ in: where, path: p, field: p ? `${where}.${p}` : where, message });
  };
  // iterative, depth-first in document order, each step pointing at its parent: a body nested
  // 100,000 deep costs neither the call stack nor a copy of its path per level
  const seen = new Set<object>();
  const stack: [unknown, Step | null][] = [[value, null]];
  while (stack.length && found.length < MAX_FINDINGS) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (!isStorableText(v)) report(at, MESSAGE);
      continue;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      const storable = Array.isArray(v) || isStorableText(key);
      const step: Step = { key: storable ? key : JSON.stringify(key), parent: at };
      if (!storable) report(step, `the name ${MESSAGE}`);
      stack.push([item, step]);
    }
  }
  return found.slice(0, MAX_FINDINGS);
}

interface Step {
  key: string;
  parent: Step | null;
}
