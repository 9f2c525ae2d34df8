/**
 * The whole data model of SPEC §4–§12. Ticket rows are written only by the ticket workflow's
 * activities; the unique keys below are what make those activities idempotent.
 */
import type { Knex } from 'knex';

const PRIORITIES = ['critical', 'high', 'medium', 'low'];
const STATUSES = ['open', 'under_investigation', 'paused', 'resolved'];
const ACTOR_TYPES = ['user', 'api_key', 'system'];

function timestamps(t: Knex.CreateTableBuilder, knex: Knex): void {
  t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
}

function uuidPk(t: Knex.CreateTableBuilder, knex: Knex): void {
  t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    uuidPk(t, knex);
    t.text('username').notNullable();
    t.text('email').notNullable();
    t.text('full_name').notNullable();
    t.text('password_hash').notNullable();
    t.enu('role', ['admin', 'manager', 'agent']).notNullable().defaultTo('agent');
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t, knex);
  });
  await knex.raw('CREATE UNIQUE INDEX users_username_lower_unique ON users (lower(username))');
  await knex.raw('CREATE UNIQUE INDEX users_email_lower_unique ON users (lower(email))');

  await knex.schema.createTable('groups', (t) => {
    uuidPk(t, knex);
    t.text('name').notNullable();
    t.text('description').notNullable().defaultTo('');
    timestamps(t, knex);
  });
  await knex.raw('CREATE UNIQUE INDEX groups_name_lower_unique ON groups (lower(name))');

  await knex.schema.createTable('group_memberships', (t) => {
    uuidPk(t, knex);
    t.uuid('group_id').notNullable().references('groups.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.boolean('is_lead').notNullable().defaultTo(false);
    t.timestamp('joined_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['group_id', 'user_id']);
    t.index(['user_id']);
  });

  await knex.schema.createTable('business_calendars', (t) => {
    uuidPk(t, knex);
    t.text('name').notNullable().unique();
    t.text('timezone').notNullable();
    // { "mon": [{ "start": "09:00", "end": "17:00" }], ... } — several ranges per day
    t.jsonb('weekly_hours').notNullable();
    // ["2026-12-25", ...] in the calendar's own time zone
    t.jsonb('holidays').notNullable().defaultTo('[]');
    timestamps(t, knex);
  });

  await knex.schema.createTable('sla_policies', (t) => {
    t.enu('priority', PRIORITIES).primary();
    t.integer('assign_target_seconds').notNullable();
    t.integer('resolve_target_seconds').notNullable();
    t.integer('at_risk_percent').notNullable().defaultTo(80);
    t.uuid('calendar_id').nullable().references('business_calendars.id').onDelete('RESTRICT');
    timestamps(t, knex);
  });
  await knex.raw(`ALTER TABLE sla_policies
    ADD CONSTRAINT sla_policies_targets_positive CHECK (assign_target_seconds > 0 AND resolve_target_seconds > 0),
    ADD CONSTRAINT sla_policies_at_risk_range CHECK (at_risk_percent BETWEEN 1 AND 99)`);

  await knex.raw('CREATE SEQUENCE ticket_number_seq START 1');
  // lpad alone would truncate ASM-10000 to four digits; nextval must be evaluated once.
  await knex.raw(`CREATE FUNCTION next_ticket_number() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT 'ASM-' || lpad(n::text, greatest(4, length(n::text)), '0') FROM nextval('ticket_number_seq') AS n
  $$`);

  await knex.schema.createTable('tickets', (t) => {
    // The API chooses the id: it is also the workflow's business key (ticket-<id>).
    t.uuid('id').primary();
    t.text('ticket_number').notNullable().unique().defaultTo(knex.raw('next_ticket_number()'));
    t.string('title', 200).notNullable();
    t.text('description').notNullable().defaultTo('');
    t.enu('priority', PRIORITIES).notNullable();
    t.enu('status', STATUSES).notNullable().defaultTo('open');
    t.text('category').nullable();
    t.specificType('tags', 'text[]').notNullable().defaultTo('{}');
    t.uuid('assigned_group_id').nullable().references('groups.id').onDelete('SET NULL');
    t.uuid('assigned_user_id').nullable().references('users.id').onDelete('SET NULL');
    t.uuid('created_by_id').nullable().references('users.id').onDelete('SET NULL');
    t.enu('created_via', ['rest', 'mcp']).notNullable().defaultTo('rest');
    // Bumped by every accepted mutation; ETag / If-Match, and the idempotency key of activities.
    t.integer('version').notNullable().defaultTo(1);
    // SLA: lifecycle instants, then the per-metric figures the workflow keeps current.
    t.timestamp('first_assigned_at', { useTz: true }).nullable();
    t.timestamp('resolved_at', { useTz: true }).nullable();
    t.timestamp('paused_at', { useTz: true }).nullable();
    t.integer('total_paused_seconds').notNullable().defaultTo(0);
    for (const metric of ['assign', 'resolve']) {
      t.integer(`sla_${metric}_target_seconds`).nullable();
      t.timestamp(`sla_${metric}_due_at`, { useTz: true }).nullable();
      t.timestamp(`sla_${metric}_at_risk_at`, { useTz: true }).nullable();
      t.timestamp(`sla_${metric}_breached_at`, { useTz: true }).nullable();
      t.timestamp(`sla_${metric}_met_at`, { useTz: true }).nullable();
    }
    t.boolean('sla_breached').notNullable().defaultTo(false);
    // The workflow's last SLA clock snapshot (elapsed, state per metric) for reads without a query.
    t.jsonb('sla_state').nullable();
    timestamps(t, knex);
    t.timestamp('deleted_at', { useTz: true }).nullable();
  });
  await knex.raw(`ALTER TABLE tickets
    ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
      setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
      setweight(to_tsvector('english', coalesce(description, '')), 'B')
    ) STORED,
    ADD CONSTRAINT tickets_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    ADD CONSTRAINT tickets_version_positive CHECK (version > 0)`);
  await knex.raw('CREATE INDEX tickets_search_vector_idx ON tickets USING gin (search_vector)');
  await knex.raw('CREATE INDEX tickets_tags_idx ON tickets USING gin (tags)');
  // The list filters: each partial on live tickets, most recent first.
  for (const col of ['status', 'priority', 'assigned_group_id', 'assigned_user_id', 'created_by_id', 'category']) {
    await knex.raw(`CREATE INDEX tickets_${col}_idx ON tickets (${col}, created_at DESC) WHERE deleted_at IS NULL`);
  }
  await knex.raw('CREATE INDEX tickets_created_at_idx ON tickets (created_at DESC) WHERE deleted_at IS NULL');
  await knex.raw('CREATE INDEX tickets_sla_breached_idx ON tickets (created_at DESC) WHERE deleted_at IS NULL AND sla_breached');

  await knex.schema.createTable('ticket_notes', (t) => {
    uuidPk(t, knex);
    t.uuid('ticket_id').notNullable().references('tickets.id').onDelete('CASCADE');
    t.uuid('author_id').nullable().references('users.id').onDelete('SET NULL');
    t.enu('actor_type', ACTOR_TYPES).notNullable().defaultTo('user');
    t.text('content').notNullable();
    t.boolean('is_internal').notNullable().defaultTo(false);
    timestamps(t, knex);
    t.timestamp('edited_at', { useTz: true }).nullable();
    t.index(['ticket_id', 'created_at']);
  });

  await knex.schema.createTable('attachments', (t) => {
    uuidPk(t, knex);
    t.uuid('ticket_id').notNullable().references('tickets.id').onDelete('CASCADE');
    t.uuid('note_id').nullable().references('ticket_notes.id').onDelete('SET NULL');
    t.uuid('uploaded_by_id').nullable().references('users.id').onDelete('SET NULL');
    t.text('original_filename').notNullable();
    // generated; the client's file name never becomes a path
    t.text('stored_name').notNullable().unique();
    t.text('content_type').notNullable();
    t.bigInteger('size_bytes').notNullable();
    t.string('sha256', 64).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ticket_id', 'created_at']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    uuidPk(t, knex);
    t.uuid('ticket_id').nullable().references('tickets.id').onDelete('CASCADE');
    // The ticket version this entry belongs to: with field_changed it makes activity retries no-ops.
    t.integer('ticket_version').nullable();
    t.enu('actor_type', ACTOR_TYPES).notNullable();
    t.uuid('actor_id').nullable().references('users.id').onDelete('SET NULL');
    t.uuid('api_key_id').nullable();
    t.text('action').notNullable();
    t.text('field_changed').nullable();
    t.jsonb('old_value').nullable();
    t.jsonb('new_value').nullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ticket_id', 'created_at']);
    t.index(['created_at']);
  });
  await knex.raw(`CREATE UNIQUE INDEX audit_log_idempotency ON audit_log
    (ticket_id, ticket_version, action, coalesce(field_changed, '')) WHERE ticket_version IS NOT NULL`);

  await knex.schema.createTable('api_keys', (t) => {
    uuidPk(t, knex);
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('key_prefix').notNullable().unique();
    t.text('key_hash').notNullable();
    t.specificType('scopes', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('last_used_at', { useTz: true }).nullable();
    t.timestamp('expires_at', { useTz: true }).nullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['user_id']);
  });

  await knex.schema.createTable('refresh_tokens', (t) => {
    uuidPk(t, knex);
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    // every token issued by one login shares a family; reuse of a rotated token revokes it all
    t.uuid('family_id').notNullable();
    t.text('token_hash').notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.uuid('replaced_by_id').nullable();
    t.text('user_agent').nullable();
    t.text('ip').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['family_id']);
    t.index(['user_id']);
  });

  await knex.schema.createTable('webhooks', (t) => {
    uuidPk(t, knex);
    t.text('url').notNullable();
    t.specificType('event_types', 'text[]').notNullable().defaultTo('{*}');
    t.text('description').notNullable().defaultTo('');
    t.boolean('is_active').notNullable().defaultTo(true);
    // the signing key must be usable, so it is stored as is (whsec_…), never shown after creation
    t.text('secret').notNullable();
    t.text('disabled_reason').nullable();
    t.timestamp('disabled_at', { useTz: true }).nullable();
    // start of the current run of nothing-but-failures; null after any success
    t.timestamp('failing_since', { useTz: true }).nullable();
    t.uuid('created_by_id').nullable().references('users.id').onDelete('SET NULL');
    timestamps(t, knex);
  });

  await knex.schema.createTable('events', (t) => {
    // evt_… public id; seq orders the stream and is SSE's Last-Event-ID
    t.text('id').primary();
    t.bigIncrements('seq', { primaryKey: false }).unique();
    t.text('type').notNullable();
    t.uuid('ticket_id').nullable().references('tickets.id').onDelete('SET NULL');
    // the webhook envelope {id, type, timestamp, data}
    t.jsonb('payload').notNullable();
    // set by activities (e.g. ticket id + version + type) so a retried write is a no-op
    t.text('dedupe_key').nullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ticket_id', 'seq']);
    t.index(['type', 'seq']);
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    uuidPk(t, knex);
    t.uuid('webhook_id').notNullable().references('webhooks.id').onDelete('CASCADE');
    t.text('event_id').notNullable().references('events.id').onDelete('CASCADE');
    t.enu('status', ['pending', 'succeeded', 'failed', 'cancelled']).notNullable().defaultTo('pending');
    t.integer('attempt_count').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).nullable();
    t.integer('last_status_code').nullable();
    t.text('last_error').nullable();
    t.integer('last_latency_ms').nullable();
    // redeliveries create a new row for the same event: unique per (webhook, event, generation)
    t.integer('generation').notNullable().defaultTo(0);
    timestamps(t, knex);
    t.timestamp('completed_at', { useTz: true }).nullable();
    t.unique(['webhook_id', 'event_id', 'generation']);
    t.index(['webhook_id', 'created_at']);
  });

  await knex.schema.createTable('webhook_delivery_attempts', (t) => {
    uuidPk(t, knex);
    t.uuid('delivery_id').notNullable().references('webhook_deliveries.id').onDelete('CASCADE');
    t.integer('attempt_number').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable();
    t.integer('status_code').nullable();
    t.integer('latency_ms').nullable();
    t.string('response_body', 1024).nullable();
    t.text('error').nullable();
    t.unique(['delivery_id', 'attempt_number']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    uuidPk(t, knex);
    // user:<id> or api_key:<id>: keys are scoped to whoever sent them
    t.text('principal').notNullable();
    t.text('key').notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    // a retry with the same key but another body is a 422, not a replay
    t.text('request_hash').notNullable();
    t.integer('response_status').nullable();
    t.jsonb('response_body').nullable();
    t.uuid('resource_id').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.unique(['principal', 'key']);
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'idempotency_keys',
    'webhook_delivery_attempts',
    'webhook_deliveries',
    'events',
    'webhooks',
    'refresh_tokens',
    'api_keys',
    'audit_log',
    'attachments',
    'ticket_notes',
    'tickets',
    'sla_policies',
    'business_calendars',
    'group_memberships',
    'groups',
    'users',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('DROP FUNCTION IF EXISTS next_ticket_number()');
  await knex.raw('DROP SEQUENCE IF EXISTS ticket_number_seq');
}
