import { describe, expect, it } from 'vitest';
import { asciiFallback, detectType, displayName } from '../../src/attachments/types.js';

describe('displayName', () => {
  it('keeps only a harmless last path segment', () => {
    expect(displayName('../../etc/passwd')).toBe('passwd');
    expect(displayName('C:\\Users\\me\\report.docx')).toBe('report.docx');
    expect(displayName('a\u0000b\r\nc.txt')).toBe('abc.txt');
    expect(displayName('\u202Efdp.exe')).toBe('fdp.exe');
    expect(displayName('  spaced   out .txt ')).toBe('spaced out .txt');
    expect(displayName('.htaccess')).toBe('htaccess');
    expect(displayName('')).toBe('file');
    expect(displayName(undefined)).toBe('file');
    expect(displayName('e\u0301.txt')).toBe('é.txt'); // NFC
    const long = displayName(`${'猫'.repeat(250)}.jpeg`);
    expect([...long]).toHaveLength(200);
    expect(long.endsWith('.jpeg')).toBe(true);
  });

  it('has an ASCII fallback for Content-Disposition', () => {
    expect(asciiFallback('résumé 猫.txt')).toBe('resume _.txt');
    expect(asciiFallback('a"b\\c%d.txt')).toBe('a_b_c_d.txt');
  });
});

describe('detectType', () => {
  it('trusts bytes, not names', async () => {
    expect(await detectType(Buffer.from('%PDF-1.7\n'), 'x.txt')).toEqual({ ok: true, contentType: 'application/pdf' });
    expect(await detectType(Buffer.from('hello, world\n'), 'x.pdf')).toEqual({ ok: true, contentType: 'text/plain; charset=utf-8' });
    expect(await detectType(Buffer.from('a,b\n1,2\n'), 'x.csv')).toEqual({ ok: true, contentType: 'text/csv; charset=utf-8' });
    expect((await detectType(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]), 'x.pdf')).ok).toBe(false);
    expect((await detectType(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...Array(60).fill(0)]), 'x.png')).ok).toBe(false);
    expect((await detectType(Buffer.from([0, 1, 2, 3, 250, 251, 252]), 'x.bin')).ok).toBe(false);
    expect(await detectType(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), 'x.gz')).toEqual({
      ok: true,
      contentType: 'application/gzip',
    });
    // UTF-8 text cut in the middle of a character at the sniffing boundary is still text
    expect((await detectType(Buffer.from('caf\u00e9 ✓', 'utf8').subarray(0, 8), 'x.log')).ok).toBe(true);
  });
});
