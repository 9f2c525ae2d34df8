/** Pure parts of the edge: the unstorable-text walker, body-read errors, database error translation. */
import { describe, expect, it } from 'vitest';
import { AppError, translateDbError, translateOutage } from '../../src/errors/index.js';
import { bodyError } from '../../src/http/middlewares/body.js';
import { findUnstorableText, isStorableText } from '../../src/http/storable-text.js';

describe('isStorableText', () => {
  it.each([
    ['NUL alone', '\u0000', false],
    ['NUL inside', 'a\u0000b', false],
    ['lone high surrogate', 'a\ud800b', false],
    ['lone high surrogate at the end', 'a\udbff', false],
    ['lone low surrogate', 'a\udc00b', false],
    ['low before high', '\udc00\ud800', false],
    ['plain text', 'VPN down', true],
    ['an emoji (a surrogate pair)', 'cat \ud83d\udc31', true],
    ['two pairs in a row', '\ud83d\udc31\ud83d\udc31', true],
    ['other control characters', 'tab\there\u0001', true],
    ['empty', '', true],
  ])('%s', (_name, text, storable) => {
    expect(isStorableText(text)).toBe(storable);
  });
});

describe('findUnstorableText', () => {
  it('names every offending value and key by its path, nested in objects and arrays', () => {
    const found = findUnstorableText(
      {
        title: 'x\u0000y',
        tags: ['ok', 'a\ud800'],
        calendar: { name: 'fine', hours: [{ note: '\u0000' }] },
        ['k\u0000']: 'v',
        n: 1,
        b: null,
      },
      'body',
    );
    expect(found.map((f) => f.field).sort()).toEqual(['body."k\\u0000"', 'body.calendar.hours.0.note', 'body.tags.1', 'body.title']);
    expect(found.find((f) => f.path === 'title')).toMatchObject({ in: 'body', path: 'title', field: 'body.title' });
    // the report itself is storable
    for (const f of found) expect(isStorableText(JSON.stringify(f))).toBe(true);
  });

  it('reports a bare string by its place alone and nothing for clean input', () => {
    expect(findUnstorableText('a\u0000', 'arguments')).toEqual([expect.objectContaining({ field: 'arguments', path: '' })]);
    expect(findUnstorableText({ a: ['b', { c: 'd' }], e: 5 }, 'body')).toEqual([]);
    expect(findUnstorableText(undefined, 'body')).toEqual([]);
  });

  it('walks a value nested 100,000 deep and an array of 300,000 items (more than a 1 MB body holds) without overflowing', () => {
    const deep = JSON.parse('['.repeat(100_000) + '"\\u0000"' + ']'.repeat(100_000)) as unknown;
    expect(findUnstorableText(deep, 'body')).toHaveLength(1);
    const wide = Array.from({ length: 300_000 }, () => 'ok');
    wide.push('a\ud800');
    expect(findUnstorableText(wide, 'body').map((f) => f.field)).toEqual(['body.300000']);
  });

  it('stops at 20 findings and survives cycles', () => {
    const cyclic: Record<string, unknown> = { bad: '\u0000' };
    cyclic.self = cyclic;
    expect(findUnstorableText(cyclic, 'body')).toHaveLength(1);
    expect(
      findUnstorableText(
        Array.from({ length: 100 }, () => '\u0000'),
        'body',
      ),
    ).toHaveLength(20);
  });
});

describe('bodyError', () => {
  it('maps every body-reading failure to a 4xx', () => {
    const cases: [unknown, string, number, string][] = [
      [Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' }), 'gzip', 400, 'bad_request'],
      [Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR' }), 'deflate', 400, 'bad_request'],
      [Object.assign(new Error('Decompression failed'), { code: 'ERR__ERROR_FORMAT_PADDING_2' }), 'br', 400, 'bad_request'],
      [Object.assign(new Error('Unsupported Content-Encoding: compress'), { status: 415 }), 'compress', 415, 'unsupported_media_type'],
      [Object.assign(new Error('unsupported charset'), { status: 415, type: 'encoding.unsupported' }), '', 415, 'unsupported_media_type'],
      [Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' }), '', 413, 'payload_too_large'],
      [Object.assign(new Error('request aborted'), { status: 400, type: 'request.aborted' }), '', 400, 'bad_request'],
      [Object.assign(new SyntaxError('Unexpected token'), { status: 400 }), '', 400, 'bad_request'],
      [new Error('anything else'), '', 400, 'bad_request'],
    ];
    for (const [err, encoding, status, code] of cases) {
      const mapped = bodyError(err, encoding);
      expect([mapped.status, mapped.code], String(err)).toEqual([status, code]);
    }
    expect(bodyError(Object.assign(new Error('x'), { code: 'Z_DATA_ERROR' }), 'gzip').message).toMatch(/not valid gzip/);
  });
});

describe('database errors', () => {
  const status = (err: unknown) => (translateOutage(translateDbError(err)) as AppError).status;

  it('maps data exceptions (class 22) and limits to 4xx', () => {
    expect((translateDbError({ code: '22021' }) as AppError).code).toBe('invalid_text');
    expect((translateDbError({ code: '22P05' }) as AppError).code).toBe('invalid_text');
    expect(status({ code: '22021' })).toBe(422);
    expect(status({ code: '22003' })).toBe(422);
    expect(status({ code: '54000' })).toBe(422);
    for (const code of ['22P02', '22007', '22008', '22012', '22023', '2201B', '22025']) expect(status({ code }), code).toBe(400);
    // Objection keeps the driver's error as nativeError
    expect(status({ name: 'DBError', nativeError: { code: '22021' } })).toBe(422);
  });

  it('maps every connection failure to 503 database_unavailable with Retry-After', () => {
    const failures: unknown[] = [
      { code: '57P01' },
      { code: '57P02' },
      { code: '57P03' },
      { code: '57014' },
      { code: '08000' },
      { code: '08003' },
      { code: '08006' },
      { code: '08001' },
      { code: '08P01' },
      { code: '53300' },
      { code: '53100' },
      // a read-only database (failover to a standby), transaction rollbacks, locks, system and internal errors
      { code: '25006' },
      { code: '25P03' },
      { code: '40001' },
      { code: '40P01' },
      { code: '55P03' },
      { code: '55006' },
      { code: '58030' },
      { code: 'XX000' },
      { code: 'XX001' },
      { code: 'ECONNRESET' },
      { code: 'ECONNREFUSED' },
      { code: 'EPIPE' },
      { code: 'ETIMEDOUT' },
      new Error('Connection terminated unexpectedly'),
      new Error('select "tickets".* from "tickets" - Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }),
      { name: 'DBError', nativeError: new Error('Connection terminated unexpectedly') },
      new Error('wrapped', { cause: { code: '57P01' } }),
    ];
    for (const failure of failures) {
      const mapped = translateOutage(translateDbError(failure)) as AppError;
      expect(mapped, JSON.stringify(failure) ?? String(failure)).toBeInstanceOf(AppError);
      expect([mapped.status, mapped.code, mapped.headers['Retry-After']]).toEqual([503, 'database_unavailable', '5']);
    }
  });

  it('leaves programming errors alone (they stay 500s, logged)', () => {
    for (const err of [
      new Error('Undefined binding(s) detected'),
      new TypeError('x is undefined'),
      new Error('Connection terminated unexpectedly, really?'),
    ]) {
      expect(translateOutage(translateDbError(err))).toBe(err);
    }
    expect(translateOutage(new Error('bad', { cause: new Error('worse') }))).toBeInstanceOf(Error);
  });
});
