/** Notes: added and edited through the ticket's workflow, HTML sanitised, each audited and emitted. */
import { randomUUID } from 'node:crypto';
import sanitizeHtml from 'sanitize-html';
import { actorOf } from '../../auth/principal.js';
import { forbidden, notFound, validationFailed } from '../../errors/index.js';
import { TicketNote } from '../../models/index.js';
import { canEditNote, canWriteTickets } from '../../policies/tickets.js';
import { addNoteUpdate, editNoteUpdate } from '../../../workflows/definitions.js';
import type { CommandContext } from '../context.js';
import { findVisibleTicket } from './read.js';
import { refuseMerged } from './merge.js';
import { mergedSources } from './merged-sources.js';
import type { NoteAdd, NoteEdit } from './inputs.js';
import { runTicketMutation } from './mutate.js';

/** Formatting survives; scripts, event handlers, styles and unsafe URLs do not. */
const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'b',
    'strong',
    'i',
    'em',
    'u',
    's',
    'code',
    'pre',
    'blockquote',
    'ul',
    'ol',
    'li',
    'a',
    'h1',
    'h2',
    'h3',
    'h4',
    'hr',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
  ],
  allowedAttributes: { a: ['href', 'title', 'rel'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow' }) },
  disallowedTagsMode: 'discard',
};

export function sanitizeNote(html: string): string {
  return sanitizeHtml(html, SANITIZE).trim();
}

export function cleanContent(content: string): string {
  const clean = sanitizeNote(content);
  if (!clean) throw validationFailed([{ in: 'body', path: 'content', message: 'is empty once unsafe HTML is removed' }]);
  return clean;
}

export type NoteWriteResult = { status: 'applied'; note: TicketNote } | { status: 'pending'; id: string };

export async function noteAdder(
  ctx: CommandContext,
  ref: string,
  input: NoteAdd,
  opts: { noteId?: string } = {},
): Promise<NoteWriteResult> {
  const ticket = await findVisibleTicket(ctx, ref);
  if (!canWriteTickets(ctx.principal)) throw forbidden('This API key may not add notes (needs tickets:write).');
  refuseMerged(ticket);
  const noteId = opts.noteId ?? randomUUID();
  const outcome = await runTicketMutation(ctx, ticket.id, addNoteUpdate, {
    requestId: `note-${noteId}`,
    actor: actorOf(ctx.principal),
    noteId,
    content: cleanContent(input.content),
    isInternal: input.is_internal,
  });
  if ('pending' in outcome) return { status: 'pending', id: noteId };
  return { status: 'applied', note: await TicketNote.query(ctx.db).findById(noteId).throwIfNotFound() };
}

/** Authors edit their own notes; admins and managers any note. */
export async function noteEditor(
  ctx: CommandContext,
  ref: string,
  noteId: string,
  input: NoteEdit,
  opts: { requestId?: string } = {},
): Promise<NoteWriteResult> {
  const ticket = await findVisibleTicket(ctx, ref);
  const note = await TicketNote.query(ctx.db).findOne({ id: noteId, ticketId: ticket.id });
  if (!note) throw notFound('Note');
  if (!canWriteTickets(ctx.principal)) throw forbidden('This API key may not edit notes (needs tickets:write).');
  if (!canEditNote(ctx.principal, note)) throw forbidden('Only the author (or a manager) may edit this note.');
  const content = cleanContent(input.content);
  if (content === note.content) return { status: 'applied', note };
  const outcome = await runTicketMutation(ctx, ticket.id, editNoteUpdate, {
    requestId: `note-edit-${opts.requestId ?? randomUUID()}`,
    actor: actorOf(ctx.principal),
    noteId,
    content,
    isInternal: note.isInternal,
    previousContent: note.content,
  });
  if ('pending' in outcome) return { status: 'pending', id: noteId };
  return { status: 'applied', note: await TicketNote.query(ctx.db).findById(noteId).throwIfNotFound() };
}

/** A ticket's notes with those of the tickets merged into it (`fromTicket`), oldest first (or newest first). */
export async function noteLister(ctx: CommandContext, ref: string, q: { page: number; page_size: number; newest_first?: boolean }) {
  const ticket = await findVisibleTicket(ctx, ref);
  const origins = await mergedSources(ctx.db, ticket);
  const order = q.newest_first ? 'desc' : 'asc';
  const page = await TicketNote.query(ctx.db)
    .whereIn('ticketId', [...origins.keys()])
    .orderBy([
      { column: 'created_at', order },
      { column: 'id', order },
    ])
    .page(q.page - 1, q.page_size);
  for (const n of page.results) n.fromTicket = origins.get(n.ticketId) ?? null;
  return page;
}
