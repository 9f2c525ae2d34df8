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
}
