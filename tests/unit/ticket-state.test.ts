import { describe, expect, it } from 'vitest';
import { applyChange, rejectChange, TRANSITIONS } from '../../workflows/ticket-state.js';
import type { TicketStatus } from '../../workflows/definitions.js';
import { ticketSnapshot } from '../helpers/snapshots.js';

const base = ticketSnapshot();
const STATUSES: TicketStatus[] = ['open', 'under_investigation', 'paused', 'waiting_on_customer', 'resolved', 'merged'];
// SPEC §4 written out by hand: from → allowed targets (waiting_on_customer like paused: issue 21).
const ALLOWED: Record<TicketStatus, TicketStatus[]> = {
  open: ['under_investigation', 'paused', 'waiting_on_customer', 'resolved'],
  under_investigation: ['open', 'paused', 'waiting_on_customer', 'resolved'],
  paused: ['open', 'under_investigation', 'resolved'],
  waiting_on_customer: ['open', 'under_investigation', 'resolved'],
  resolved: ['open'],
  // reached only through a merge (workflows/mutations/merge.ts), never left
  merged: [],
};

describe('the transition matrix', () => {
  for (const from of STATUSES) {
    for (const to of STATUSES.filter((s) => s !== from)) {
      const ok = ALLOWED[from].includes(to);
      it(`${from} → ${to} is ${ok ? 'allowed' : 'refused'}`, () => {
        const rejection = rejectChange({ ...base, status: from }, { status: to }, null);
        if (ok) expect(rejection).toBeNull();
        // a merged ticket takes no change at all
        else if (from === 'merged') expect(rejection).toMatchObject({ type: 'ticket_merged' });
        else expect(rejection).toMatchObject({ type: 'invalid_transition', details: { from, to, allowed: ALLOWED[from] } });
      });
    }
  }
  it('matches the table the workflow uses', () => expect(TRANSITIONS).toEqual(ALLOWED));
});

describe('rejectChange', () => {
  it('refuses a stale version and a deleted ticket', () => {
    expect(rejectChange(base, { title: 'x' }, 2)).toMatchObject({
      type: 'stale_version',
      details: { expected_version: 2, current_version: 1 },
    });
    expect(rejectChange(base, { title: 'x' }, 1)).toBeNull();
    expect(rejectChange({ ...base, deleted: true }, {}, null)?.type).toBe('ticket_deleted');
  });
});

describe('applyChange', () => {
  it('bumps the version once, lists each changed field, and ignores unchanged ones', () => {
    const r = applyChange(base, { title: 'New', description: '', tags: ['a'], priority: 'medium' }, '2026-01-01T01:00:00.000Z');
    expect(r.next.version).toBe(2);
    expect(r.fields).toEqual([
      { field: 'title', old: 'T', new: 'New' },
      { field: 'tags', old: [], new: ['a'] },
    ]);
    expect(r.events).toEqual(['ticket.updated']);
    expect(base.title).toBe('T'); // pure
  });

  it('changes nothing (not even the version) when nothing differs', () => {
    const r = applyChange(base, { title: 'T', status: 'open' }, '2026-01-01T01:00:00.000Z');
    expect(r).toEqual({ next: base, fields: [], events: [], slaTimeline: [] });
  });

  it('accounts paused time on resume, and emits the status events', () => {
    const paused = applyChange(base, { status: 'paused' }, '2026-01-01T01:00:00.000Z');
    expect(paused.next).toMatchObject({ status: 'paused', pausedAt: '2026-01-01T01:00:00.000Z' });
    expect(paused.events).toEqual(['ticket.updated', 'ticket.status_changed', 'ticket.paused']);
    const resumed = applyChange(paused.next, { status: 'under_investigation' }, '2026-01-01T01:10:00.000Z');
    expect(resumed.next).toMatchObject({ pausedAt: null, totalPausedSeconds: 600, version: 3 });
    expect(resumed.events).toEqual(['ticket.updated', 'ticket.status_changed', 'ticket.resumed']);
  });

  it('resolving from paused counts the pause; reopening clears resolved_at', () => {
    const paused = applyChange(base, { status: 'paused' }, '2026-01-01T01:00:00.000Z').next;
    const resolved = applyChange(paused, { status: 'resolved' }, '2026-01-01T01:05:00.000Z');
    expect(resolved.next).toMatchObject({ resolvedAt: '2026-01-01T01:05:00.000Z', totalPausedSeconds: 300, pausedAt: null });
    expect(resolved.events).toEqual(['ticket.updated', 'ticket.status_changed', 'ticket.resolved']);
    const reopened = applyChange(resolved.next, { status: 'open' }, '2026-01-01T02:00:00.000Z');
    expect(reopened.next.resolvedAt).toBeNull();
    expect(reopened.events).toEqual(['ticket.updated', 'ticket.status_changed', 'ticket.reopened']);
  });

  it('records the first assignment to a user once', () => {
    const first = applyChange(base, { assignedGroupId: 'g', assignedUserId: 'u1' }, '2026-01-01T01:00:00.000Z');
    expect(first.next.firstAssignedAt).toBe('2026-01-01T01:00:00.000Z');
    expect(first.events).toEqual(['ticket.updated', 'ticket.assigned']);
    const again = applyChange(first.next, { assignedUserId: 'u2' }, '2026-01-01T02:00:00.000Z');
    expect(again.next.firstAssignedAt).toBe('2026-01-01T01:00:00.000Z');
    const groupOnly = applyChange(base, { assignedGroupId: 'g' }, '2026-01-01T01:00:00.000Z');
    expect(groupOnly.next.firstAssignedAt).toBeNull();
  });
});
