/** Notes: adding one, and editing one (the API checked who may, and sanitised the content). */
import type { NoteRequest } from '../definitions.js';
import { nextVersion, notDeleted, type MutationKind } from './plan.js';

export const addNote: MutationKind<NoteRequest> = {
  check: notDeleted,
  plan: (s, req) => ({
    next: nextVersion(s),
    note: { op: 'add', id: req.noteId, content: req.content, isInternal: req.isInternal },
    audit: [{ action: 'note_added', field: null, old: null, new: { note_id: req.noteId, is_internal: req.isInternal } }],
    events: [{ type: 'ticket.note_added', changes: {} }],
    timeline: [],
  }),
};

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
