import { BaseModel } from './BaseModel.js';
import type { ActorType } from '../../workflows/definitions.js';

export class TicketNote extends BaseModel {
  static override tableName = 'ticket_notes';
  static override touchesUpdatedAt = true;

  id!: string;
  ticketId!: string;
  authorId!: string | null;
  actorType!: ActorType;
  content!: string;
  isInternal!: boolean;
  createdAt!: Date;
  updatedAt!: Date;
  editedAt!: Date | null;
  /** set by listers: the merged ticket it comes from (null: the listed ticket's own); never stored */
  fromTicket?: { id: string; ticket_number: string } | null;
}
