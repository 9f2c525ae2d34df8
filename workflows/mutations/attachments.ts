/** Files recorded on a ticket, or removed from it (already stored under generated names by the API). */
import type { AttachmentsRequest } from '../definitions.js';
import { nextVersion, notDeleted, type MutationKind, type Plan } from './plan.js';

export const attachments: MutationKind<AttachmentsRequest> = {
  check: notDeleted,
  plan(s, req): Plan {
    const summary = req.attachments.map((a) => ({
      id: a.id,
      filename: a.originalFilename,
      content_type: a.contentType,
      size_bytes: a.sizeBytes,
      sha256: a.sha256,
      note_id: a.noteId,
    }));
    return {
      next: nextVersion(s),
      attachments: { op: req.op, items: req.attachments },
      audit: summary.map((a) =>
        req.op === 'add'
          ? { action: 'file_uploaded', field: `attachment:${a.id}`, old: null, new: a }
          : { action: 'file_deleted', field: `attachment:${a.id}`, old: a, new: null },
      ),
      events: [
        req.op === 'add'
          ? { type: 'ticket.attachment_added', changes: {}, data: { attachments: summary } }
          : { type: 'ticket.updated', changes: { attachments: { old: summary, new: null } } },
      ],
      timeline: [],
    };
  },
};
