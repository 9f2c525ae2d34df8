/**
 * Merging tickets as pure functions (workflows/mutations/merge.ts): the source's merge (check,
 * cross-ticket step, plan) and the target's absorb — no worker, no database.
 */
import { describe, expect, it } from 'vitest';
import { absorbUpdateId, type Actor, type AbsorbRequest, type MergeRequest } from '../../workflows/definitions.js';
import { absorb, merge } from '../../workflows/mutations/merge.js';
import type { PlanContext } from '../../workflows/mutations/index.js';
import { nextSlaInstant, startSla, type SlaTerms } from '../../workflows/sla/clock.js';
import { rejectChange, type TicketSnapshot } from '../../workflows/ticket-state.js';
import { ticketSnapshot } from '../helpers/snapshots.js';

const AT = '2026-01-01T01:00:00.000Z';
const actor: Actor = { type: 'user', userId: 'u' };
const ctx: PlanContext = { at: AT, patched: () => true };
const TERMS: SlaTerms = { assignTargetSeconds: 3_600, resolveTargetSeconds: 86_400, atRiskPercent: 80, calendar: null };

const base = ticketSnapshot({
  id: 'src',
  version: 3,
  sla: startSla(TERMS, Date.parse('2026-01-01T00:00:00.000Z'), false).sla,
});
const target: TicketSnapshot = { ...base, id: 'tgt', ticketNumber: 'ASM-0002', version: 7 };

const mergeReq = (over: Partial<MergeRequest> = {}): MergeRequest => ({
  requestId: 'merge-1',
  actor,
  expectedVersion: null,
  target: { id: 'tgt', ticketNumber: 'ASM-0002' },
  ...over,
});
const absorbReq = (over: Partial<AbsorbRequest> = {}): AbsorbRequest => ({
  requestId: absorbUpdateId('src'),
  actor,
  source: { id: 'src', ticketNumber: 'ASM-0001' },
  at: AT,
  ...over,
});

describe('merge (the source)', () => {
  it('refuses itself, a stale version, a deleted or merged source, and a second merge elsewhere in flight', () => {
    expect(merge.check(base, mergeReq())).toBeNull();
    expect(merge.check(base, mergeReq({ target: { id: 'src', ticketNumber: 'ASM-0001' } }))).toMatchObject({
      type: 'merge_refused',
      details: { reason: 'same_ticket' },
    });
    expect(merge.check(base, mergeReq({ expectedVersion: 2 }))).toMatchObject({ type: 'stale_version' });
    expect(merge.check({ ...base, deleted: true }, mergeReq())).toMatchObject({ type: 'ticket_deleted' });
    const merged = { ...base, status: 'merged' as const, mergedInto: { id: 'x', ticketNumber: 'ASM-0009', at: AT } };
    expect(merge.check(merged, mergeReq())).toMatchObject({
      type: 'ticket_merged',
      details: { merged_into: { id: 'x', ticket_number: 'ASM-0009' } },
    });
    // its own acceptance marks the target involved: the re-check in the handler passes
    expect(merge.check(base, mergeReq(), { involved: 'tgt' })).toBeNull();
    expect(merge.check(base, mergeReq(), { involved: 'other' })).toMatchObject({ details: { reason: 'merge_in_progress' } });
  });

  it('asks the target to absorb it first, with one Update id per source', () => {
    expect(merge.involves!(mergeReq())).toBe('tgt');
    expect(merge.before!(base, mergeReq({ apiRequestId: 'req-1' }), AT)).toEqual({
      targetId: 'tgt',
      request: {
        requestId: 'absorb-src',
        actor,
        apiRequestId: 'req-1',
        source: { id: 'src', ticketNumber: 'ASM-0001' },
        at: AT,
      },
    });
  });

  it('plans the terminal version: status merged, the link, clocks stopped, audit entries and one ticket.merged event', () => {
    const plan = merge.plan(base, mergeReq(), ctx)!;
    expect(plan.next).toMatchObject({
      version: 4,
      status: 'merged',
      mergedInto: { id: 'tgt', ticketNumber: 'ASM-0002', at: AT },
    });
    expect(plan.next.sla!.assign.phase).toBe('paused');
    expect(plan.next.sla!.resolve.phase).toBe('paused');
    expect(nextSlaInstant(plan.next.sla!)).toBeNull(); // no at-risk or breach can fire afterwards
    expect(plan.timeline.map((e) => [e.metric, e.kind])).toEqual([
      ['assign', 'paused'],
      ['resolve', 'paused'],
    ]);
    expect(plan.audit).toEqual([
      { action: 'updated', field: 'status', old: 'open', new: 'merged' },
      { action: 'merged_into', field: 'merged_into', old: null, new: { id: 'tgt', ticket_number: 'ASM-0002' } },
    ]);
    expect(plan.events).toEqual([
      {
        type: 'ticket.merged',
        changes: { status: { old: 'open', new: 'merged' }, merged_into: { old: null, new: { id: 'tgt', ticket_number: 'ASM-0002' } } },
        data: { merge: { source: { id: 'src', ticket_number: 'ASM-0001' }, target: { id: 'tgt', ticket_number: 'ASM-0002' } } },
      },
    ]);
    // a merged ticket takes nothing more
    expect(rejectChange(plan.next, { title: 'x' }, null)).toMatchObject({ type: 'ticket_merged' });
  });

  it('closes a pause, and writes the note in the same version', () => {
    const paused = { ...base, status: 'paused' as const, pausedAt: '2026-01-01T00:30:00.000Z', totalPausedSeconds: 60 };
    const plan = merge.plan(paused, mergeReq({ note: { noteId: 'n1', content: 'dup of ASM-0002', isInternal: true } }), ctx)!;
    expect(plan.next).toMatchObject({ status: 'merged', pausedAt: null, totalPausedSeconds: 60 + 1_800 });
    expect(plan.note).toEqual({ op: 'add', id: 'n1', content: 'dup of ASM-0002', isInternal: true });
    expect(plan.events.map((e) => e.type)).toEqual(['ticket.merged', 'ticket.note_added']);
  });
});

describe('absorb (the target)', () => {
  it('refuses a deleted, merged or merging target and itself; a source already recorded passes', () => {
    expect(absorb.check(target, absorbReq())).toBeNull();
    expect(absorb.check({ ...target, deleted: true }, absorbReq())).toMatchObject({ details: { reason: 'target_deleted' } });
    expect(
      absorb.check({ ...target, status: 'merged', mergedInto: { id: 'z', ticketNumber: 'ASM-0003', at: AT } }, absorbReq()),
    ).toMatchObject({ type: 'merge_refused', details: { reason: 'target_merged', merged_into: { ticket_number: 'ASM-0003' } } });
    expect(absorb.check(target, absorbReq({ source: { id: 'tgt', ticketNumber: 'ASM-0002' } }))).toMatchObject({
      details: { reason: 'same_ticket' },
    });
    // the target is merging into the source at the same time: refused rather than waiting for ever
    expect(absorb.check(target, absorbReq(), { involved: 'src' })).toMatchObject({ details: { reason: 'target_merging' } });
    const recorded = { ...target, mergedFrom: [{ id: 'src', ticketNumber: 'ASM-0001', at: AT }] };
    expect(absorb.check({ ...recorded, deleted: true }, absorbReq())).toBeNull();
  });

  it('appends the source to merged_from once, with an audit entry and a ticket.updated event', () => {
    const plan = absorb.plan(target, absorbReq(), ctx)!;
    expect(plan.next).toMatchObject({ version: 8, status: 'open', mergedFrom: [{ id: 'src', ticketNumber: 'ASM-0001', at: AT }] });
    expect(plan.audit).toEqual([{ action: 'merged_from', field: 'merged_from', old: null, new: { id: 'src', ticket_number: 'ASM-0001' } }]);
    expect(plan.events).toEqual([
      { type: 'ticket.updated', changes: { merged_from: { old: [], new: [{ id: 'src', ticket_number: 'ASM-0001' }] } } },
    ]);
    expect(absorb.plan(plan.next, absorbReq(), ctx)).toBeNull(); // a repeat changes nothing
    const second = absorb.plan(plan.next, absorbReq({ source: { id: 's2', ticketNumber: 'ASM-0004' } }), ctx)!;
    expect(second.next.mergedFrom!.map((l) => l.ticketNumber)).toEqual(['ASM-0001', 'ASM-0004']);
  });
});
