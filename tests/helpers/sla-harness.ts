/**
 * A harness for SLA tests: a database of the file's own (short policies would breach other files'
 * tickets), an admin's token, an agent in a group, and the given policies set through the API.
 */
import { expect } from 'vitest';
import type { Knex } from 'knex';
import { Event } from '../../src/models/index.js';
import { createGroup, createUser, login } from './factories.js';
import { call, startHarness, type Harness } from './harness.js';

export type SlaPolicyBody = {
  assign_target_seconds: number;
  resolve_target_seconds: number;
  at_risk_percent: number;
  /** issue 21: per metric, as PUT /sla-policies takes them */
  warning_levels?: Record<string, readonly ({ percent: number } | { minutes_before: number })[]>;
  pause_statuses?: Record<string, readonly string[]>;
};

/** Starts the harness on scratch database `scratch` and PUTs each priority's policy. */
export async function startSlaHarness(
  scratch: string,
  policies: Record<string, SlaPolicyBody>,
): Promise<{ h: Harness; token: string; agentId: string; groupId: string }> {
  const h = await startHarness({ scratch, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  const admin = await createUser(h.db, { role: 'admin' });
  const token = await login(h, admin.username);
  const agent = await createUser(h.db, { role: 'agent' });
  const groupId = (await createGroup(h.db, [agent])).id;
  for (const [priority, body] of Object.entries(policies)) {
    expect((await call(h, 'PUT', `/api/v1/sla-policies/${priority}`, { token, body })).status).toBe(200);
  }
  return { h, token, agentId: agent.id, groupId };
}

/** An SLA signal as its stored event says it: which metric and level, the cycle, when it was due and when written. */
export interface SlaEvent {
  type: string;
  metric: string;
  level: unknown;
  cycle: number;
  dueAt: number;
  createdAt: number;
}

/** The ticket's at-risk and breach events in stream order. */
export async function slaEvents(db: Knex, ticketId: string): Promise<SlaEvent[]> {
  const rows = await Event.query(db).where({ ticketId }).whereIn('type', ['ticket.sla_at_risk', 'ticket.sla_breached']).orderBy('seq');
  return rows.map((e) => {
    const sla = e.payload.data.sla as { metric: string; cycle: number; due_at: string; level?: unknown };
    return {
      type: e.type,
      metric: sla.metric,
      level: sla.level ?? null,
      cycle: sla.cycle,
      dueAt: Date.parse(sla.due_at),
      createdAt: e.createdAt.getTime(),
    };
  });
}
