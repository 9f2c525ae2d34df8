/**
 * Ticket fixtures: a ticket as the workflow holds it (for the pure-plan unit tests: an open,
 * unassigned medium ticket at version 1), and the input a ticket workflow is started with.
 */
import { randomUUID } from 'node:crypto';
import type { Actor, TicketCreateInput } from '../../workflows/definitions.js';
import type { TicketSnapshot } from '../../workflows/ticket-state.js';

/** A ticket workflow's create input: a new id, low priority, unassigned, by REST now; `over` says what matters. */
export function ticketCreateInput(actor: Actor, over: Partial<TicketCreateInput> = {}): TicketCreateInput {
  return {
    id: randomUUID(),
    title: 'Ticket',
    description: '',
    priority: 'low',
    category: null,
    tags: [],
    assignedGroupId: null,
    assignedUserId: null,
    createdVia: 'rest',
    actor,
    requestedAt: new Date().toISOString(),
    ...over,
  };
}

export function ticketSnapshot(over: Partial<TicketSnapshot> = {}): TicketSnapshot {
  return {
    id: 't1',
    ticketNumber: 'ASM-0001',
    title: 'T',
    description: '',
    priority: 'medium',
    status: 'open',
    category: null,
    tags: [],
    assignedGroupId: null,
    assignedUserId: null,
    createdById: 'u',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    firstAssignedAt: null,
    resolvedAt: null,
    pausedAt: null,
    totalPausedSeconds: 0,
    deleted: false,
    ...over,
  };
}
