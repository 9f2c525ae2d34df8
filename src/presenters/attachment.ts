import type { Attachment } from '../models/index.js';

export function presentAttachment(a: Attachment) {
  return {
    id: a.id,
    ticket_id: a.ticketId,
    note_id: a.noteId,
    filename: a.originalFilename,
    content_type: a.contentType,
    size_bytes: Number(a.sizeBytes),
    sha256: a.sha256,
    uploaded_by_id: a.uploadedById,
    created_at: a.createdAt.toISOString(),
    download_url: `/api/v1/attachments/${a.id}/download`,
    from_ticket: a.fromTicket ?? null,
  };
}
