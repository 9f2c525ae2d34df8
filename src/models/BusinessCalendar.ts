import { BaseModel } from './BaseModel.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export class BusinessCalendar extends BaseModel {
  static override jsonAttributes = ['weeklyHours', 'holidays'];
  static override tableName = 'business_calendars';
  static override touchesUpdatedAt = true;

  id!: string;
  name!: string;
  timezone!: string;
  weeklyHours!: Partial<Record<Weekday, [string, string][]>>;
  holidays!: string[];
  createdAt!: Date;
  updatedAt!: Date;
}
