/**
 * Attachments: files are streamed to disk first, then recorded through the ticket's workflow
 * (rows, `file_uploaded` audit entries, `ticket.attachment_added`); deletes remove the row through
 * the workflow first, then the file. So a row never points at a missing file; a file whose row
 * never came (a crash between the two steps) is removed by `sweepOrphanUploads`.
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { actorOf } from '../../auth/principal.js';
import { receiveUpload, removeFiles } from '../../attachments/receive.js';
import type { Db } from '../../db/index.js';
import { AppError, forbidden, notFound, validationFailed } from '../../errors/index.js';
import { UUID_PATTERN } from '../../../workflows/vocabulary.js';
import { Attachment, TicketNote, type Ticket } from '../../models/index.js';
import { canDeleteAttachment, canWriteTickets } from '../../policies/tickets.js';
import { attachmentsUpdate, type AttachmentMeta } from '../../../workflows/definitions.js';
import type { CommandContext } from '../context.js';
import { findVisibleTicket } from './read.js';
import { refuseMerged } from './merge.js';
import { findReachableTicket, mergedSources } from './merged-sources.js';
import { runTicketMutation } from './mutate.js';

export type UploadResult = { status: 'applied'; attachments: Attachment[] } | { status: 'pending'; ids: string[] };

export function uploadDir(ctx: Pick<CommandContext, 'config'>): string {
  return path.resolve(ctx.config.uploads.dir);
}

export async function attachmentUploader(ctx: CommandContext, ref: string, req: IncomingMessage): Promise<UploadResult> {
  const ticket = await findVisibleTicket(ctx, ref);
  if (!canWriteTickets(ctx.principal)) throw forbidden('This API key may not upload files (needs tickets:write).');
  const dir = uploadDir(ctx);
  const upload = await receiveUpload(req, {
    dir,
    ticketId: ticket.id,
    maxFileBytes: ctx.config.uploads.maxSizeMb * 1024 * 1024,
    maxSizeMb: ctx.config.uploads.maxSizeMb,
  });
  const paths = upload.files.map((f) => path.join(dir, f.storedName));
  try {
    const noteId = await checkNote(ctx.db, ticket, upload.fields.note_id);
    const attachments: AttachmentMeta[] = upload.files.map((f) => ({ ...f, noteId }));
    const outcome = await runTicketMutation(ctx, ticket.id, attachmentsUpdate, {
      requestId: `attachments-${randomUUID()}`,
      actor: actorOf(ctx.principal),
      op: 'add',
      attachments,
    });
    if ('pending' in outcome) return { status: 'pending', ids: attachments.map((a) => a.id) };
    return {
      status: 'applied',
      attachments: await Attachment.query(ctx.db)
        .findByIds(attachments.map((a) => a.id))
        .orderBy('original_filename'),
    };
  } catch (err) {
    // A refused change (or bad input) records nothing: remove the files. If the change was merely
    // not confirmed in time it may still be recorded, so its files stay (the sweep removes them if not).
    if (!(err instanceof AppError && err.code === 'change_not_confirmed')) await removeFiles(paths);
    throw err;
  }
}

async function checkNote(db: Db, ticket: Ticket, noteId: string | undefined): Promise<string | null> {
  if (noteId === undefined || noteId === '') return null;
  if (!UUID_PATTERN.test(noteId) || !(await TicketNote.query(db).findOne({ id: noteId, ticketId: ticket.id }))) {
    throw validationFailed([{ in: 'body', path: 'note_id', message: 'No note of this ticket has this id.' }]);
  }
  return noteId;
}

export async function attachmentLister(ctx: CommandContext, ref: string): Promise<Attachment[]> {
  const ticket = await findVisibleTicket(ctx, ref);
  // with the files of the tickets merged into it, each marked with its ticket (merged-sources.ts)
  const origins = await mergedSources(ctx.db, ticket);
  const rows = await Attachment.query(ctx.db)
    .whereIn('ticketId', [...origins.keys()])
    .orderBy('created_at')
    .orderBy('original_filename');
  for (const a of rows) a.fromTicket = origins.get(a.ticketId) ?? null;
  return rows;
}

/** An attachment of a ticket the caller may see (else 404), with the path of its file. */
export async function attachmentFinder(ctx: CommandContext, id: string): Promise<{ attachment: Attachment; ticket: Ticket; file: string }> {
  const attachment = await Attachment.query(ctx.db).findById(id);
  if (!attachment) throw notFound('Attachment');
  // a merged ticket's file is reachable through the ticket it was merged into
  const ticket = await findReachableTicket(ctx.db, ctx.principal, attachment.ticketId, 'Attachment');
  return { attachment, ticket, file: path.join(uploadDir(ctx), attachment.storedName) };
}

/** The uploader, or an admin or manager, may delete. */
export async function attachmentDeleter(ctx: CommandContext, id: string): Promise<'deleted' | 'pending'> {
  const { attachment, ticket, file } = await attachmentFinder(ctx, id);
  refuseMerged(ticket);
  if (!canWriteTickets(ctx.principal)) throw forbidden('This API key may not delete files (needs tickets:write).');
  if (!canDeleteAttachment(ctx.principal, attachment)) {
    throw forbidden('Only the uploader, a manager or an admin may delete this file.');
  }
  const outcome = await runTicketMutation(ctx, ticket.id, attachmentsUpdate, {
    requestId: `attachment-delete-${attachment.id}`, // deleting twice is one delete
    actor: actorOf(ctx.principal),
    op: 'delete',
    attachments: [
      {
        id: attachment.id,
        storedName: attachment.storedName,
        originalFilename: attachment.originalFilename,
        contentType: attachment.contentType,
        sizeBytes: Number(attachment.sizeBytes),
        sha256: attachment.sha256,
        noteId: attachment.noteId,
      },
    ],
  });
  if ('pending' in outcome) return 'pending'; // the row goes when a worker runs; the sweep takes the file
  await removeFiles([file]);
  return 'deleted';
}

/**
 * Remove files under the upload directory that no attachment row names and that are older than
 * `graceMs` (uploads whose recording never happened, deletes cut off before the file went).
 */
export async function sweepOrphanUploads(db: Db, dir: string, graceMs = 60 * 60 * 1000): Promise<number> {
  let removed = 0;
  // no upload directory yet: nothing to sweep (anything else is the caller's to log)
  const tickets = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const entry of tickets) {
    if (!entry.isDirectory() || !UUID_PATTERN.test(entry.name)) continue;
    const folder = path.join(dir, entry.name);
    const names = await readdir(folder);
    if (names.length === 0) continue;
    const known = new Set((await Attachment.query(db).select('storedName').where({ ticketId: entry.name })).map((a) => a.storedName));
    for (const name of names) {
      if (known.has(`${entry.name}/${name}`)) continue;
      const info = await stat(path.join(folder, name)).catch(() => null); // removed meanwhile: nothing to do
      if (!info?.isFile() || Date.now() - info.mtimeMs < graceMs) continue;
      await removeFiles([path.join(folder, name)]);
      removed++;
    }
  }
  return removed;
}
