/**
 * What an uploaded file is, judged by its bytes (never by its name or the client's Content-Type),
 * and how its name may be shown. Pure apart from the sniffing library.
 */
import { fileTypeFromBuffer } from 'file-type';

/** Bytes read from the start of each file to decide its type. */
export const SNIFF_BYTES = 4_100;

/** Images, PDF, office documents (OOXML, legacy OLE, OpenDocument), archives. Text is judged separately. */
const ALLOWED_BINARY = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/bmp',
  'image/tiff',
  'image/heic',
  'image/avif',
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/x-cfb', // legacy .doc/.xls/.ppt (OLE compound file)
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'application/zip',
  'application/gzip',
]);

export type Detected = { ok: true; contentType: string } | { ok: false; reason: string };

/** Printable UTF-8 without NUL bytes (a cut multi-byte character at the very end is fine). */
function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const replaced = (text.match(/\uFFFD/g) ?? []).length;
  if (replaced > 1 || (replaced === 1 && !text.endsWith('\uFFFD'))) return false;
  // control characters other than tab, CR, LF, form feed and escape mean binary
  return !/[\u0001-\u0008\u000B\u000E-\u001A\u001C-\u001F\u007F]/.test(text);
}

/** The allowed content type of a file whose first bytes are `head`, or why it is refused. */
export async function detectType(head: Buffer, displayName: string): Promise<Detected> {
  const sniffed = await fileTypeFromBuffer(head);
  if (sniffed) {
    return ALLOWED_BINARY.has(sniffed.mime)
      ? { ok: true, contentType: sniffed.mime }
      : { ok: false, reason: `its content is ${sniffed.mime}, which is not allowed` };
  }
  if (looksLikeText(head))
    return { ok: true, contentType: /\.csv$/i.test(displayName) ? 'text/csv; charset=utf-8' : 'text/plain; charset=utf-8' };
  return { ok: false, reason: 'its content is not a recognised allowed type (images, PDF, office documents, text, zip/gzip)' };
}

const MAX_NAME = 200;

/**
 * The client's file name made safe to show: the last path segment only, Unicode normalised,
 * control characters (NUL, CR, LF, …) and bidi overrides removed, trimmed, at most 200 characters
 * (keeping the extension). It is metadata only: files are stored under generated names.
 */
export function displayName(raw: string | undefined): string {
  let name = (raw ?? '').normalize('NFC');
  name = name.split(/[/\\]/).pop() ?? '';
  name = name
    .replace(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  name = name.replace(/^\.+/, '').trim();
  if (!name) return 'file';
  const chars = [...name];
  if (chars.length <= MAX_NAME) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  return chars.slice(0, MAX_NAME - [...ext].length).join('') + ext;
}

/** An ASCII rendering of a display name for the `filename=` fallback (accents dropped, the rest `_`). */
export function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
}
