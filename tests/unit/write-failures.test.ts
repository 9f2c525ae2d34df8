/** Which write failures are permanent (fail once, non-retryable) and which are retried. */
import { describe, expect, it } from 'vitest';
import { permanentKind, permanentWriteFailure } from '../../activities/write-failures.js';
import { VersionGapError } from '../../src/store/ticket-records.js';

const pgError = (code: string) => Object.assign(new Error('refused'), { code });

describe('permanent write failures', () => {
  it.each([
    ['22021', 'invalid_data'], // NUL byte in text
    ['22P05', 'invalid_data'], // \u0000 in jsonb
    ['22P02', 'invalid_data'], // a lone surrogate escape in jsonb
    ['22001', 'invalid_data'],
    ['23503', 'invalid_reference'],
    ['23505', 'constraint'],
    ['23514', 'constraint'],
    ['54000', 'limit'],
  ])('SQLSTATE %s is permanent (%s)', (code, kind) => {
    expect(permanentKind(pgError(code))).toEqual({ kind, sqlstate: code });
  });

  it.each(['40001', '40P01', '08006', '08003', '57P01', '53300', 'XX000', '42P01', 'ECONNRESET', 'ECONNREFUSED'])(
    '%s is retried',
    (code) => {
      expect(permanentKind(pgError(code))).toBeNull();
      expect(permanentWriteFailure(pgError(code))).toBeNull();
    },
  );

  it('retries errors without a SQLSTATE (a cut connection, anything unknown)', () => {
    expect(permanentKind(new Error('Connection terminated unexpectedly'))).toBeNull();
    expect(permanentKind('boom')).toBeNull();
  });

  it('finds the SQLSTATE under wrappers (objection nativeError, cause chains)', () => {
    expect(permanentKind({ name: 'DataError', nativeError: pgError('22021') })).toEqual({ kind: 'invalid_data', sqlstate: '22021' });
    expect(permanentKind(new Error('outer', { cause: pgError('54000') }))).toEqual({ kind: 'limit', sqlstate: '54000' });
  });

  it('a version gap is permanent', () => {
    expect(permanentKind(new VersionGapError('ticket x is at version 1, cannot apply version 3'))).toEqual({
      kind: 'version_gap',
      sqlstate: null,
    });
  });

  it('builds a non-retryable failure typed by kind', () => {
    const nul = permanentWriteFailure(pgError('22021'))!;
    expect(nul.nonRetryable).toBe(true);
    expect(nul.type).toBe('UnwritableChange');
    expect(nul.details).toEqual([{ kind: 'invalid_data', sqlstate: '22021' }]);
    expect(permanentWriteFailure(pgError('23503'))!.type).toBe('InvalidReference');
  });
});
