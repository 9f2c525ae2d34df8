import { BaseModel } from './BaseModel.js';

export class Attachment extends BaseModel {
  static override tableName = 'attachments';

  id!: string;
  ticketId!: string;
  noteId!: string | null;
  uploadedById!: string | null;
  originalFilename!: string;
  storedName!: string;
  contentType!: string;
  sizeBytes!: number;
  sha256!: string;
  createdAt!: Date;
  /** set by listers: the merged ticket it comes from (null: the listed ticket's own); never stored */
  fromTicket?: { id: string; ticket_number: string } | null;
}
