import { BaseModel } from './BaseModel.js';

export class WebhookDelivery extends BaseModel {
  static override tableName = 'webhook_deliveries';
  static override touchesUpdatedAt = true;

  id!: string;
  webhookId!: string;
  eventId!: string;
  status!: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  attemptCount!: number;
  nextAttemptAt!: Date | null;
  lastStatusCode!: number | null;
  lastError!: string | null;
  lastLatencyMs!: number | null;
  generation!: number;
  /** the workflow that runs this delivery */
  dispatchKey!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
  completedAt!: Date | null;
}

export class WebhookDeliveryAttempt extends BaseModel {
  static override tableName = 'webhook_delivery_attempts';

  id!: string;
  deliveryId!: string;
  attemptNumber!: number;
  requestedAt!: Date;
  statusCode!: number | null;
  latencyMs!: number | null;
  responseBody!: string | null;
  error!: string | null;
}
