/**
 * The ticket mutation kinds as pure functions: each one's check (shared by the Update validator and
 * the handler) and its plan (next snapshot, audit entries, events) — no worker, no database.
 */
import { describe, expect, it } from 'vitest';
import {
  absorbUpdate,
  addNoteUpdate,
  attachmentsUpdate,
  changeUpdate,
  deleteUpdate,
  editNoteUpdate,
  mergeUpdate,
  slaRetargetUpdate,
  type Actor,
  type AttachmentMeta,
} from '../../workflows/definitions.js';
import { attachments } from '../../workflows/mutations/attachments.js';
import { change } from '../../workflows/mutations/change.js';
import { deleteTicket } from '../../workflows/mutations/delete.js';
import { absorb, merge } from '../../workflows/mutations/merge.js';
import { planSlaSignals, TICKET_MUTATIONS, type PlanContext } from '../../workflows/mutations/index.js';
import { addNote, editNote } from '../../workflows/mutations/notes.js';
import { slaRetarget } from '../../workflows/mutations/sla-retarget.js';
import { nextSlaInstant, startSla, type SlaTerms } from '../../workflows/sla/clock.js';
import type { TicketSnapshot } from '../../workflows/ticket-state.js';
import { ticketSnapshot } from '../helpers/snapshots.js';

const AT = '2026-01-01T01:00:00.000Z';
const actor: Actor = { type: 'user', userId: 'u' };
const ctx = (over: Partial<PlanContext> = {}): PlanContext => ({ at: AT, patched: () => true, ...over });
const TERMS: SlaTerms = { assignTargetSeconds: 3_600, resolveTargetSeconds: 86_400, atRiskPercent: 80, calendar: null };

const base = ticketSnapshot({
  version: 3,
});
const withSla: TicketSnapshot = { ...base, sla: startSla(TERMS, Date.parse(base.createdAt), false).sla };
const deleted: TicketSnapshot = { ...base, deleted: true };

const file: AttachmentMeta = {
  id: 'a1',
  storedName: 'x.bin',
  originalFilename: 'report.pdf',
  contentType: 'application/pdf',
  sizeBytes: 12,
  sha256: 'ab',
  noteId: null,
};

describe('the table', () => {
  it('pairs each mutation Update with its kind, once each', () => {
    expect(TICKET_MUTATIONS.map((m) => [m.update, m.kind])).toEqual([
      [changeUpdate, change],
      [addNoteUpdate, addNote],
      [editNoteUpdate, editNote],
      [attachmentsUpdate, attachments],
      [deleteUpdate, deleteTicket],
      [mergeUpdate, merge],
      [absorbUpdate, absorb],
      [slaRetargetUpdate, slaRetarget],
    ]);
  });

  it('every kind refuses a deleted ticket', () => {
    const requests = {
      change: { requestId: 'r', actor, expectedVersion: null, changes: { title: 'x' } },
      addNote: { requestId: 'r', actor, noteId: 'n', content: 'c', isInternal: false },
      editNote: { requestId: 'r', actor, noteId: 'n', content: 'c', isInternal: false },
      attachments: { requestId: 'r', actor, op: 'add', attachments: [file] },
      delete: { requestId: 'r', actor, expectedVersion: null },
      merge: { requestId: 'r', actor, expectedVersion: null, target: { id: 't2', ticketNumber: 'ASM-0002' } },
      absorb: { requestId: 'r', actor, source: { id: 't2', ticketNumber: 'ASM-0002' }, at: AT },
      slaRetarget: { requestId: 'r', actor, policyKey: 'default:medium', version: 2, terms: {} },
    } as const;
    for (const { update, kind } of TICKET_MUTATIONS) {
      const req = requests[update.name as keyof typeof requests] as never;
      // a deleted merge target refuses the merge (the caller is the source's: 409 merge_refused, not 404)
      const type = update.name === 'absorb' ? 'merge_refused' : 'ticket_deleted';
      expect(kind.check(deleted, req), update.name).toMatchObject({ type });
      expect(kind.check(base, req), update.name).toBeNull();
    }
  });
});

describe('change', () => {
  const req = (changes: object, expectedVersion: number | null = null) => ({ requestId: 'r', actor, expectedVersion, changes });

  it('checks the version and the transition', () => {
    expect(change.check(base, req({ title: 'x' }, 2))).toMatchObject({ type: 'stale_version' });
    expect(change.check(base, req({ title: 'x' }, 3))).toBeNull();
    expect(change.check({ ...base, status: 'resolved' }, req({ status: 'paused' }))).toMatchObject({ type: 'invalid_transition' });
  });

  it('plans one audit entry per field and one event per consequence, all carrying the same changes', () => {
    const plan = change.plan(base, req({ title: 'New', status: 'paused' }), ctx())!;
    expect(plan.next).toMatchObject({ version: 4, title: 'New', status: 'paused', pausedAt: AT });
    expect(plan.audit).toEqual([
      { action: 'updated', field: 'title', old: 'T', new: 'New' },
      { action: 'updated', field: 'status', old: 'open', new: 'paused' },
    ]);
    const changes = { title: { old: 'T', new: 'New' }, status: { old: 'open', new: 'paused' } };
    expect(plan.events).toEqual([
      { type: 'ticket.updated', changes },
      { type: 'ticket.status_changed', changes },
      { type: 'ticket.paused', changes },
    ]);
    expect(plan.note).toBeUndefined();
    expect(plan.attachments).toBeUndefined();
  });

  it('plans nothing when nothing differs', () => {
    expect(change.plan(base, req({ title: 'T', status: 'open' }), ctx())).toBeNull();
  });

  it('writes a note it carries in the same version, after the change’s own entries — and none when nothing changes', () => {
    const note = { noteId: 'n1', content: 'Waiting for parts', isInternal: true };
    const plan = change.plan(base, { ...req({ status: 'paused' }), note }, ctx())!;
    expect(plan.next.version).toBe(4);
    expect(plan.note).toEqual({ op: 'add', id: 'n1', content: 'Waiting for parts', isInternal: true });
    expect(plan.audit.map((a) => a.action)).toEqual(['updated', 'note_added']);
    expect(plan.events.map((e) => e.type)).toEqual(['ticket.updated', 'ticket.status_changed', 'ticket.paused', 'ticket.note_added']);
    expect(change.plan(base, { ...req({ status: 'open' }), note }, ctx())).toBeNull();
  });

  it('reads the new priority’s terms only when the clocks run and the priority really changes', () => {
    expect(change.reads!(withSla, req({ priority: 'critical' }))).toBe('critical');
    expect(change.reads!(withSla, req({ priority: 'medium' }))).toBeNull();
    expect(change.reads!(withSla, req({ title: 'x' }))).toBeNull();
    expect(change.reads!(base, req({ priority: 'critical' }))).toBeNull(); // no clocks (older histories)
  });

  it('re-targets the clocks with the terms read, and records what it did to them', () => {
    const plan = change.plan(withSla, req({ priority: 'critical' }), ctx({ terms: { ...TERMS, resolveTargetSeconds: 7_200 } }))!;
    expect(plan.next.sla!.resolve.targetSeconds).toBe(7_200);
    expect(plan.timeline.map((e) => e.kind)).toContain('target_changed');
    const without = change.plan(withSla, req({ priority: 'critical' }), ctx())!;
    expect(without.next.sla).toEqual(withSla.sla);
  });

  it('asks whether a met resolve clock may be re-targeted only when it is met and terms came', () => {
    const asked: string[] = [];
    const patched = (id: string) => (asked.push(id), false);
    const resolved = change.plan(withSla, req({ status: 'resolved' }), ctx())!.next;
    change.plan(resolved, req({ priority: 'critical' }), ctx({ patched }));
    expect(asked).toEqual([]);
    const oldRun = change.plan(resolved, req({ priority: 'critical' }), ctx({ patched, terms: { ...TERMS, resolveTargetSeconds: 60 } }))!;
    // 'sla-rules' too: the workflow asked it already before reading the terms (no second marker)
    expect(asked).toEqual(['sla-reopen-current-terms', 'sla-rules']);
    expect(oldRun.next.sla!.resolve.targetSeconds).toBe(TERMS.resolveTargetSeconds);
    const newRun = change.plan(resolved, req({ priority: 'critical' }), ctx({ terms: { ...TERMS, resolveTargetSeconds: 60 } }))!;
    expect(newRun.next.sla!.resolve.targetSeconds).toBe(60);
  });
});

describe('notes', () => {
  const req = { requestId: 'r', actor, noteId: 'n1', content: 'new text', isInternal: true, previousContent: 'old text' };

  it('adding one writes the note, an audit entry without its content, and ticket.note_added', () => {
    const plan = addNote.plan(base, req, ctx())!;
    expect(plan.next).toEqual({ ...base, version: 4 });
    expect(plan.note).toEqual({ op: 'add', id: 'n1', content: 'new text', isInternal: true });
    expect(plan.audit).toEqual([{ action: 'note_added', field: null, old: null, new: { note_id: 'n1', is_internal: true } }]);
    expect(plan.events).toEqual([{ type: 'ticket.note_added', changes: {} }]);
  });

  it('editing one records both contents, and emits ticket.updated with the note change', () => {
    const plan = editNote.plan(base, req, ctx())!;
    expect(plan.note).toEqual({ op: 'edit', id: 'n1', content: 'new text', isInternal: true });
    expect(plan.audit).toEqual([
      { action: 'note_edited', field: null, old: { note_id: 'n1', content: 'old text' }, new: { note_id: 'n1', content: 'new text' } },
    ]);
    expect(plan.events).toEqual([{ type: 'ticket.updated', changes: { note: { old: 'old text', new: 'new text' } } }]);
    expect(editNote.plan(base, { ...req, previousContent: undefined }, ctx())!.audit[0]!.old).toEqual({ note_id: 'n1', content: null });
  });
});

describe('attachments', () => {
  const summary = { id: 'a1', filename: 'report.pdf', content_type: 'application/pdf', size_bytes: 12, sha256: 'ab', note_id: null };

  it('an upload records each file and one ticket.attachment_added listing them', () => {
    const plan = attachments.plan(base, { requestId: 'r', actor, op: 'add', attachments: [file, { ...file, id: 'a2' }] }, ctx())!;
    expect(plan.next.version).toBe(4);
    expect(plan.attachments).toEqual({ op: 'add', items: [file, { ...file, id: 'a2' }] });
    expect(plan.audit.map((a) => [a.action, a.field, a.old])).toEqual([
      ['file_uploaded', 'attachment:a1', null],
      ['file_uploaded', 'attachment:a2', null],
    ]);
    expect(plan.events).toEqual([
      { type: 'ticket.attachment_added', changes: {}, data: { attachments: [summary, { ...summary, id: 'a2' }] } },
    ]);
  });

  it('a deletion records the file removed and ticket.updated', () => {
    const plan = attachments.plan(base, { requestId: 'r', actor, op: 'delete', attachments: [file] }, ctx())!;
    expect(plan.audit).toEqual([{ action: 'file_deleted', field: 'attachment:a1', old: summary, new: null }]);
    expect(plan.events).toEqual([{ type: 'ticket.updated', changes: { attachments: { old: [summary], new: null } } }]);
  });
});

describe('delete', () => {
  it('honours If-Match and marks the ticket deleted one version on', () => {
    expect(deleteTicket.check(base, { requestId: 'r', actor, expectedVersion: 1 })).toMatchObject({ type: 'stale_version' });
    const plan = deleteTicket.plan(base, { requestId: 'r', actor, expectedVersion: 3 }, ctx())!;
    expect(plan.next).toEqual({ ...base, version: 4, deleted: true });
    expect(plan.audit).toEqual([{ action: 'deleted', field: null, old: null, new: null }]);
    expect(plan.events).toEqual([{ type: 'ticket.deleted', changes: {} }]);
  });
});

describe('SLA signals', () => {
  const atRisk = Date.parse(base.createdAt) + 0.8 * 3_600_000; // the assign clock's at-risk instant
  const breach = Date.parse(base.createdAt) + 3_600_000;

  it('plan nothing before an instant, on a deleted ticket, or without clocks', () => {
    expect(planSlaSignals(withSla, 'assign', atRisk - 1)).toBeNull();
    expect(planSlaSignals({ ...withSla, deleted: true }, 'assign', breach)).toBeNull();
    expect(planSlaSignals(base, 'assign', breach)).toBeNull();
    expect(planSlaSignals(withSla, 'resolve', atRisk)).toBeNull(); // the resolve clock is not due yet
  });

  it('record every signal of the metric due at once in one version', () => {
    const plan = planSlaSignals(withSla, 'assign', breach)!;
    expect(plan.next.version).toBe(4);
    expect(plan.next.sla!.assign.breachedAt).toBe(new Date(breach).toISOString());
    expect(plan.audit).toEqual([
      { action: 'sla_at_risk', field: 'sla.assign', old: null, new: { due_at: new Date(atRisk).toISOString(), cycle: 1 } },
      { action: 'sla_breached', field: 'sla.assign', old: null, new: { due_at: new Date(breach).toISOString(), cycle: 1 } },
    ]);
    expect(plan.events.map((e) => [e.type, (e.data!.sla as { signal: string }).signal])).toEqual([
      ['ticket.sla_at_risk', 'at_risk'],
      ['ticket.sla_breached', 'breached'],
    ]);
    expect(plan.events[1]).toMatchObject({ changes: {}, data: { sla: { metric: 'assign', cycle: 1, target_seconds: 3_600 } } });
    // a clock of the single at-risk level writes what it always wrote (levels: sla-warning-levels.test.ts)
    expect(plan.events[0]!.data!.sla).not.toHaveProperty('level');
    expect(plan.timeline.map((e) => e.kind)).toEqual(['at_risk', 'breached']);
    // once recorded, they are not due again: the next instant is the resolve clock's
    expect(planSlaSignals(plan.next, 'assign', breach)).toBeNull();
    expect(nextSlaInstant(plan.next.sla!)).toBe(Date.parse(base.createdAt) + 0.8 * 86_400_000);
  });
});
