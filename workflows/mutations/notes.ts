/** Notes: adding one, and editing one (the API checked who may, and sanitised the content). */
import type { NoteRequest } from '../definitions.js';
import { nextVersion, notDeleted, type MutationKind, type Plan } from './plan.js';

export const addNote: MutationKind<NoteRequest> = {
  check: notDeleted,
  plan: (s, req) => withNote({ next: nextVersion(s), audit: [], events: [], timeline: [] }, req),
};

/** `plan` with a new note written in the same version: the note row, its audit entry and event. */
export function withNote(plan: Plan, note: Pick<NoteRequest, 'noteId' | 'content' | 'isInternal'>): Plan {
  return {
    next: plan.next,
    note: { op: 'add', id: note.noteId, content: note.content, isInternal: note.isInternal },
    audit: [...plan.audit, { action: 'note_added', field: null, old: null, new: { note_id: note.noteId, is_internal: note.isInternal } }],
    events: [...plan.events, { type: 'ticket.note_added', changes: {} }],
    timeline: plan.timeline,
  };
}

export const editNote: MutationKind<NoteRequest> = {
  check: notDeleted,
  plan: (s, req) => ({
    next: nextVersion(s),
    note: { op: 'edit', id: req.noteId, content: req.content, isInternal: req.isInternal },
    audit: [
      {
        action: 'note_edited',
        field: null,
        old: { note_id: req.noteId, content: req.previousContent ?? null },
        new: { note_id: req.noteId, content: req.content },
      },
    ],
    events: [{ type: 'ticket.updated', changes: { note: { old: req.previousContent ?? null, new: req.content } } }],
    timeline: [],
  }),
};
