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
  const seen = new Set<object>();
  const report = (path: string[], message: string) => {
    const p = path.join('.');
    found.push({ in: where, path: p, field: p ? `${where}.${p}` : where, message });
  };
  const walk = (v: unknown, path: string[]): void => {
    if (found.length >= MAX_FINDINGS) return;
    if (typeof v === 'string') {
      if (!isStorableText(v)) report(path, MESSAGE);
      return;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, String(i)]));
      return;
    }
    for (const [key, item] of Object.entries(v)) {
      const storable = isStorableText(key);
      const at = [...path, storable ? key : JSON.stringify(key)];
      if (!storable) report(at, `the name ${MESSAGE}`);
      walk(item, at);
    }
  };
  walk(value, []);
  return found;
}
