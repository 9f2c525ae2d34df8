/**
 * Rotation without dropped messages: after a rotation the previous secret keeps signing (as a
 * second `v1,` signature, which Standard Webhooks receivers accept) until `previous_secret_expires_at`,
 * so a receiver can switch to the new secret at its own pace.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.text('previous_secret').nullable();
    t.timestamp('previous_secret_expires_at', { useTz: true }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.dropColumn('previous_secret_expires_at');
    t.dropColumn('previous_secret');
  });
}
