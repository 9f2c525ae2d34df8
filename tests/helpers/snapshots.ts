/** A ticket as the workflow holds it, for the pure-plan unit tests: an open, unassigned medium ticket at version 1. */
import type { TicketSnapshot } from '../../workflows/ticket-state.js';

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
