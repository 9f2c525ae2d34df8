/**
 * Streams a multipart upload to disk: each file goes through a hash and a byte counter into a
 * temporary file under `<dir>/<ticket>/`, never whole in memory; the size limit is enforced while
 * streaming; the type is decided from the first bytes. All or nothing: if any part fails (too
 * large, refused type, client gone) every file of the request is removed and nothing is returned.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { AppError, badRequest, invalidText, unsupportedMediaType, validationFailed } from '../errors/index.js';
import { findUnstorableText } from '../http/storable-text.js';
import type { AttachmentMeta } from '../../workflows/definitions.js';
import { detectType, displayName, SNIFF_BYTES } from './types.js';

/** A stored file as the ticket workflow records it (`storedName` is `<ticket>/<id>`, relative to the upload directory). */
export type ReceivedFile = Omit<AttachmentMeta, 'noteId'>;

export interface ReceivedUpload {
  files: ReceivedFile[];
  fields: Record<string, string>;
}

export const MAX_FILES_PER_REQUEST = 10;

/** Counts, hashes and keeps the first bytes of what passes through. */
class Inspector extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  private headParts: Buffer[] = [];
  private headSize = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    if (this.headSize < SNIFF_BYTES) {
      this.headParts.push(chunk.subarray(0, SNIFF_BYTES - this.headSize));
      this.headSize += Math.min(chunk.length, SNIFF_BYTES - this.headSize);
    }
    done(null, chunk);
  }
  get head(): Buffer {
    return Buffer.concat(this.headParts);
  }
}

const payloadTooLarge = (limitMb: number, name: string) =>
  new AppError(413, 'payload_too_large', `"${name}" is larger than the ${limitMb} MB limit per file; nothing was stored.`);

export async function receiveUpload(
  req: IncomingMessage,
  opts: { dir: string; ticketId: string; maxFileBytes: number; maxSizeMb: number },
): Promise<ReceivedUpload> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType))
    throw unsupportedMediaType('Send files as multipart/form-data (one or more "file" parts).');
  const folder = path.join(opts.dir, opts.ticketId);
  await mkdir(folder, { recursive: true });

  const written: string[] = []; // every path touched, for cleanup
  const files: ReceivedFile[] = [];
  const fields: Record<string, string> = {};
  const pending: Promise<void>[] = [];
  let failure: AppError | null = null;
  const fail = (err: AppError) => {
    failure ??= err;
  };

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: {
        fileSize: opts.maxFileBytes + 1,
        files: MAX_FILES_PER_REQUEST,
        fields: 10,
        fieldSize: 1024,
        parts: MAX_FILES_PER_REQUEST + 10,
      },
    });
  } catch {
    throw badRequest('The multipart body is malformed (missing boundary?).');
  }
  // text PostgreSQL cannot store (NUL, unpaired surrogates) in a field's name or value: 422
  parser.on('field', (name, value) => {
    const unstorable = findUnstorableText({ [name]: value }, 'body');
    if (unstorable.length) return fail(invalidText(unstorable));
    fields[name] = value;
  });
  parser.on('filesLimit', () =>
    fail(validationFailed([{ in: 'body', path: 'file', message: `At most ${MAX_FILES_PER_REQUEST} files per request.` }])),
  );
  parser.on('file', (_field, stream, info) => {
    const id = randomUUID();
    const name = displayName(info.filename);
    // displayName drops control characters (NUL included); an unpaired surrogate left in it is refused
    const unstorable = findUnstorableText({ filename: name }, 'body');
    if (unstorable.length) fail(invalidText(unstorable));
    const incoming = path.join(folder, `.incoming-${id}`);
    written.push(incoming);
    const inspector = new Inspector();
    // busboy's limit is one byte over ours (a file of exactly the limit is fine): past it busboy
    // stops passing data on (the file on disk stops growing) and discards the rest of the part;
    // the request is still read to its end so the client sees the 413
    stream.on('limit', () => fail(payloadTooLarge(opts.maxSizeMb, name)));
    pending.push(
      pipeline(stream, inspector, createWriteStream(incoming, { flags: 'wx', mode: 0o640 }))
        .then(async () => {
          if (failure) return;
          if (inspector.size === 0) return fail(validationFailed([{ in: 'body', path: 'file', message: `"${name}" is empty.` }]));
          const type = await detectType(inspector.head, name);
          if (!type.ok) return fail(new AppError(415, 'unsupported_media_type', `"${name}" was refused: ${type.reason}.`));
          const finalPath = path.join(folder, id);
          await rename(incoming, finalPath);
          written.push(finalPath);
          files.push({
            id,
            storedName: `${opts.ticketId}/${id}`,
            originalFilename: name,
            contentType: type.contentType,
            sizeBytes: inspector.size,
            sha256: inspector.hash.digest('hex'),
          });
        })
        .catch(() => fail(failure ?? badRequest('The upload was interrupted.'))),
    );
  });

  try {
    await pipeline(req, parser);
  } catch {
    fail(failure ?? badRequest('The upload was interrupted or the multipart body is malformed.'));
  }
  await Promise.allSettled(pending);
  if (!failure && files.length === 0) fail(validationFailed([{ in: 'body', path: 'file', message: 'Send at least one file part.' }]));
  if (failure) {
    await removeFiles(written);
    throw failure;
  }
  return { files, fields };
}

/** Remove files, ignoring those already gone. */
export async function removeFiles(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => unlink(p).catch(() => undefined)));
}
