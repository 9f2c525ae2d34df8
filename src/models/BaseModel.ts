import { Model } from 'objection';

/** Tables are snake_case, code is camelCase: the knex instance maps both ways (see db/index.ts). */
export class BaseModel extends Model {
  /**
   * Only columns listed here are JSON; everything else passes through to pg as is, so JS arrays
   * reach `text[]` columns as arrays. (Objection would otherwise stringify every array.)
   */
  static override jsonAttributes: string[] = [];

  /**
   * Models with an updated_at column set this so every Objection update refreshes it — unless the
   * update names its own instant (a ticket write carries the one its workflow decided).
   */
  static touchesUpdatedAt = false;

  override $beforeUpdate(): void {
    const self = this as unknown as { updatedAt?: Date };
    if ((this.constructor as typeof BaseModel).touchesUpdatedAt && self.updatedAt === undefined) self.updatedAt = new Date();
  }
}
