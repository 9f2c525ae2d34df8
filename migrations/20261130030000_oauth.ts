/**
 * OAuth 2.1 for the MCP endpoint (src/oauth): dynamically registered clients, grants (one per
 * consent: the family every code and token descends from, revoked as a whole), authorization codes
 * and tokens. Codes and tokens are stored only as SHA-256 hashes.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('oauth_clients', (t) => {
    t.text('client_id').primary();
    // the registration as answered to the client (RFC 7591), kept as JSON text
    t.text('metadata').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('oauth_grants', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('client_id').notNullable().references('oauth_clients.client_id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.specificType('scopes', 'text[]').notNullable();
    t.text('resource').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.index(['user_id']);
  });

  await knex.schema.createTable('oauth_authorization_codes', (t) => {
    t.text('code_hash').primary();
    t.uuid('grant_id').notNullable().references('oauth_grants.id').onDelete('CASCADE');
    t.text('redirect_uri').notNullable();
    t.text('code_challenge').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true }).nullable();
    t.index(['grant_id']);
  });

  await knex.schema.createTable('oauth_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('grant_id').notNullable().references('oauth_grants.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('token_hash').notNullable().unique();
    // an access token may carry fewer scopes than its grant (a narrowed refresh)
    t.specificType('scopes', 'text[]').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    // a refresh token is used once (rotation); presenting it again revokes its grant
    t.timestamp('used_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['grant_id']);
  });
  await knex.raw(`ALTER TABLE oauth_tokens ADD CONSTRAINT oauth_tokens_kind_check CHECK (kind IN ('access', 'refresh'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('oauth_tokens');
  await knex.schema.dropTable('oauth_authorization_codes');
  await knex.schema.dropTable('oauth_grants');
  await knex.schema.dropTable('oauth_clients');
}
