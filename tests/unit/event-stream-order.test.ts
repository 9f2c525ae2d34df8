/** The stream's pure pieces: position order and principal-change payloads. */
import { describe, expect, it } from 'vitest';
import { parsePrincipalChange } from '../../src/events/principals.js';
import { isAfter, positionOf } from '../../src/events/store.js';

describe('stream positions', () => {
  it('order by the writing transaction first, then by seq', () => {
    const a = positionOf({ txid: '100', seq: 9 });
    const b = positionOf({ txid: '101', seq: 3 }); // a later transaction with a lower seq
    const c = positionOf({ txid: '101', seq: 4 });
    expect(isAfter(b, a)).toBe(true);
    expect(isAfter(a, b)).toBe(false);
    expect(isAfter(c, b)).toBe(true);
    expect(isAfter(b, b)).toBe(false);
  });

  it('compare transaction ids beyond 2^53 exactly', () => {
    const low = positionOf({ txid: '9007199254740993', seq: 1 });
    const high = positionOf({ txid: '9007199254740994', seq: 1 });
    expect(isAfter(high, low)).toBe(true);
    expect(isAfter(low, high)).toBe(false);
  });
});

describe('principal change payloads', () => {
  const id = '0b7f6c1e-6a53-4d3a-9f55-1c2b3d4e5f60';
  it('name a user or an API key', () => {
    expect(parsePrincipalChange(`user:${id}`)).toEqual({ userId: id });
    expect(parsePrincipalChange(`api_key:${id}`)).toEqual({ apiKeyId: id });
  });
  it('ignore anything else', () => {
    for (const p of [undefined, '', 'user:', `group:${id}`, `user:${id} `, `user:${id};drop`]) expect(parsePrincipalChange(p)).toBeNull();
  });
});
