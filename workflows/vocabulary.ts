/**
 * The product's words, each listed once: ticket statuses and priorities, event types, the failure
 * types a ticket workflow answers with, the ticket-reference pattern, and the small enums the API
 * shows (actors, channels, SLA states). Zod enums, OpenAPI, MCP schemas, webhook subscriptions and
 * metrics labels derive from these lists. Plain data without imports, so workflow code may use it.
 * Migrations keep their own copies on purpose: a migration is frozen once it has run.
 */

/**
 * SPEC §4: the states of a ticket, plus `merged` (an extension: the terminal state of a ticket merged
 * into another, reached only through a merge — never by a status change — and never left).
 */
export const TICKET_STATUSES = ['open', 'under_investigation', 'paused', 'waiting_on_customer', 'resolved', 'merged'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Statuses an SLA policy may name as stopping a clock (issue 21): neither where tickets start nor terminal ones. */
export const SLA_PAUSABLE_STATUSES = ['under_investigation', 'paused', 'waiting_on_customer'] as const satisfies readonly TicketStatus[];

/** Most urgent first: the order of SLA policy lists, dashboards and the `priority` sort. */
export const TICKET_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

/** Events a ticket emits (stored, streamed, sent to webhooks). */
export const TICKET_EVENT_TYPES = [
  'ticket.created',
  'ticket.updated',
  'ticket.assigned',
  'ticket.status_changed',
  'ticket.paused',
  'ticket.resumed',
  'ticket.resolved',
  'ticket.reopened',
  'ticket.note_added',
  'ticket.attachment_added',
  'ticket.deleted',
  'ticket.merged',
  'ticket.sla_at_risk',
  'ticket.sla_breached',
] as const;
export type TicketEventType = (typeof TICKET_EVENT_TYPES)[number];

/** Every stored event type: the ticket events and the webhook's own notices. */
export const EVENT_TYPES = [...TICKET_EVENT_TYPES, 'webhook.test', 'webhook.disabled'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Who did something: a user, an API key (acting for its owner), or the system (timers). */
export const ACTOR_TYPES = ['user', 'api_key', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** SPEC §3: what a user may do is decided by one role. */
export const ROLES = ['admin', 'manager', 'agent'] as const;
export type Role = (typeof ROLES)[number];

/** Where a ticket was created. */
export const TICKET_CHANNELS = ['rest', 'mcp'] as const;
export type TicketChannel = (typeof TICKET_CHANNELS)[number];

/** The state of one SLA metric as presented (`breached` once its deadline passed unmet). */
export const SLA_STATES = ['running', 'paused', 'met', 'breached'] as const;
export type SlaState = (typeof SLA_STATES)[number];

/**
 * The failure types a ticket workflow answers a create or an Update with (ApplicationFailure
 * `type`), named in one casing here. The values are the strings already recorded in workflow
 * histories and returned to API callers, so they keep their spelling: the rule rejections are
 * snake_case, the two permanent write failures (thrown by activities, non-retryable) PascalCase.
 */
export const TICKET_FAILURES = {
  /** a status change the transition table forbids */
  invalidTransition: 'invalid_transition',
  /** If-Match names a version the ticket has moved past */
  staleVersion: 'stale_version',
  /** the ticket was deleted */
  ticketDeleted: 'ticket_deleted',
  /** the create is still being written */
  ticketNotReady: 'ticket_not_ready',
  /** the run is about to continue-as-new and takes no more Updates: the next run will (the API retries) */
  ticketDraining: 'ticket_draining',
  /** a group or user the input names no longer exists */
  invalidReference: 'InvalidReference',
  /** the database refuses the data for good, or the row is not at the version the change follows */
  unwritableChange: 'UnwritableChange',
  /** the ticket was merged into another: it takes no more changes */
  ticketMerged: 'ticket_merged',
  /** a merge the tickets' states forbid: into itself, a merged or deleted ticket, or one merging away */
  mergeRefused: 'merge_refused',
} as const;
export type TicketFailureType = (typeof TICKET_FAILURES)[keyof typeof TICKET_FAILURES];

/** Failures of a write that no retry can fix. */
export const PERMANENT_WRITE_FAILURES: readonly string[] = [TICKET_FAILURES.invalidReference, TICKET_FAILURES.unwritableChange];

/** Why a write failed for good (the `kind` label of `servicemeow_ticket_write_failures_total`). */
export const WRITE_FAILURE_KINDS = ['invalid_reference', 'invalid_data', 'constraint', 'limit', 'version_gap'] as const;
export type WriteFailureKind = (typeof WRITE_FAILURE_KINDS)[number];

/** A ticket number as the database issues it: `ASM-0001` (four digits at least), any case on input. */
export const TICKET_NUMBER_PATTERN = /^[Aa][Ss][Mm]-\d{4,}$/;

/** A UUID in any case (ids of tickets, users, groups, notes). */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const inner = (pattern: RegExp) => pattern.source.slice(1, -1);

/**
 * A ticket reference: its UUID or its number. Character classes rather than the `i` flag, so the
 * OpenAPI `pattern` generated from it means the same to clients.
 */
export const TICKET_REF_PATTERN = new RegExp(`^(${inner(UUID_PATTERN)}|${inner(TICKET_NUMBER_PATTERN)})$`);
