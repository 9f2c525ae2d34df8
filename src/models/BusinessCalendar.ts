import { BaseModel } from './BaseModel.js';
import type { HoursRange, Weekday } from '../../workflows/sla/calendar.js';

export class BusinessCalendar extends BaseModel {
  static override jsonAttributes = ['weeklyHours', 'holidays'];
  static override tableName = 'business_calendars';
  static override touchesUpdatedAt = true;

  id!: string;
  name!: string;
  timezone!: string;
  weeklyHours!: Partial<Record<Weekday, HoursRange[]>>;
  holidays!: string[];
  createdAt!: Date;
  updatedAt!: Date;
}
