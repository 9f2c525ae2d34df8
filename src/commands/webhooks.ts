/**
 * Webhook subscriptions (admins and managers): URL, event types or `*`, description, active flag,
 * and a signing secret shown only at creation and on rotation. Targets are checked against the
 * SSRF rules here and again, on the resolved address, at every delivery.
 */
import { notFound, validationFailed } from '../errors/index.js';
import { Webhook } from '../models/index.js';
import { authorize } from '../policies/index.js';
import { generateSecret } from '../webhooks/signing.js';
import { checkTarget } from '../webhooks/targets.js';
import { cancelPendingDeliveries } from '../webhooks/deliveries.js';
import type { CommandContext } from './context.js';

type Ctx = Pick<CommandContext, 'principal' | 'db' | 'config'>;

export interface WebhookInput {
  url?: string;
  event_types?: string[];
  description?: string;
  is_active?: boolean;
}

async function checkUrl(ctx: Ctx, url: string): Promise<void> {
  const check = await checkTarget(url, ctx.config.webhooks.allowPrivateNetworks);
  if (!check.ok) throw validationFailed([{ in: 'body', path: 'url', message: `This URL cannot receive webhooks: ${check.reason}.` }]);
}

export async function webhookCreator(
  ctx: Ctx,
  input: Required<Pick<WebhookInput, 'url'>> & WebhookInput,
): Promise<{ webhook: Webhook; secret: string }> {
  authorize(ctx.principal, 'webhooks.manage');
  await checkUrl(ctx, input.url);
  const secret = generateSecret();
  const webhook = await Webhook.query(ctx.db)
    .insert({
      url: input.url,
      eventTypes: input.event_types ?? ['*'],
      description: input.description ?? '',
      isActive: input.is_active ?? true,
      secret,
      createdById: ctx.principal.user.id,
    } as Partial<Webhook>)
    .returning('*');
  return { webhook, secret };
}

export async function webhookLister(ctx: Ctx, q: { page: number; page_size: number }) {
  authorize(ctx.principal, 'webhooks.manage');
  return Webhook.query(ctx.db)
    .orderBy('created_at')
    .orderBy('id')
    .page(q.page - 1, q.page_size);
}

export async function webhookFinder(ctx: Ctx, id: string): Promise<Webhook> {
  authorize(ctx.principal, 'webhooks.manage');
  const webhook = await Webhook.query(ctx.db).findById(id);
  if (!webhook) throw notFound('Webhook');
  return webhook;
}

/**
 * Re-activating clears the reason it was disabled (and its run of failures); deactivating cancels
 * its pending deliveries (redeliver them once it is back).
 */
export async function webhookUpdater(ctx: Ctx, id: string, input: WebhookInput): Promise<Webhook> {
  const webhook = await webhookFinder(ctx, id);
  if (input.url !== undefined) await checkUrl(ctx, input.url);
  const reactivated = input.is_active === true && !webhook.isActive;
  const deactivated = input.is_active === false && webhook.isActive;
  return ctx.db.transaction(async (trx) => {
    // what was waiting for a retry will not be tried again: say so now, not at its next slot
    if (deactivated) await cancelPendingDeliveries(trx, id, 'the endpoint was deactivated');
    return Webhook.query(trx).patchAndFetchById(id, {
      ...(input.url !== undefined ? { url: input.url } : {}),
      ...(input.event_types !== undefined ? { eventTypes: input.event_types } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.is_active !== undefined ? { isActive: input.is_active } : {}),
      ...(reactivated ? { disabledReason: null, disabledAt: null, failingSince: null } : {}),
    } as Partial<Webhook>);
  });
}

export async function webhookDeleter(ctx: Ctx, id: string): Promise<void> {
  await webhookFinder(ctx, id);
  await Webhook.query(ctx.db).deleteById(id);
}

/** How long a rotated-out secret keeps signing unless the caller says otherwise. */
export const DEFAULT_KEEP_OLD_SECRET_HOURS = 24;

/**
 * A new secret signs from now on (returned this one time). The old one keeps signing beside it for
 * `keepOldForHours` (default 24; 0 ends it at once, e.g. after a leak), so a receiver can switch
 * without rejecting anything; a second rotation replaces whatever was still honoured.
 */
export async function webhookSecretRotator(
  ctx: Ctx,
  id: string,
  keepOldForHours = DEFAULT_KEEP_OLD_SECRET_HOURS,
): Promise<{ webhook: Webhook; secret: string }> {
  const current = await webhookFinder(ctx, id);
  const secret = generateSecret();
  const webhook = await Webhook.query(ctx.db).patchAndFetchById(id, {
    secret,
    previousSecret: keepOldForHours > 0 ? current.secret : null,
    previousSecretExpiresAt: keepOldForHours > 0 ? new Date(Date.now() + keepOldForHours * 3600e3) : null,
  } as Partial<Webhook>);
  return { webhook, secret };
}
