/**
 * SLA preview, what-if and breach history as pure functions over the workflow's own clock
 * (workflows/sla/clock.ts) and change rules (workflows/ticket-state.ts): no second implementation
 * of deadlines, pauses or cycles, so whatever the clock learns (warning levels, pause statuses)
 * shows up here too. Times are epoch milliseconds; nothing here reads the clock or the database.
 */
import {
  dueSignals,
  fireSignal,
  SLA_METRICS,
  followStatus,
  levelLabel,
  startSla,
  type DueSignal,
  type SlaMetric,
  type SlaTerms,
  type SlaTimelineEntry,
  type TicketSla,
} from '../../../workflows/sla/clock.js';
import { applyChange, type TicketChanges, type TicketSnapshot } from '../../../workflows/ticket-state.js';
import type { TicketStatus } from '../../../workflows/vocabulary.js';

/**
 * A stretch during which the ticket sits in `status` (default `paused`, which stops every clock);
 * each clock stops only if the terms' pause statuses name that status for it (e.g.
 * `waiting_on_customer` stops resolve but not assign by default). It returns to `open` at `to`.
 */
export interface PreviewPause {
  from: number;
  to: number;
  status?: string;
}

export const MAX_PREVIEW_PAUSES = 100;

/** Instants a preview accepts: deadlines then stay four-digit-year RFC 3339 instants. */
export const PREVIEW_EARLIEST = Date.parse('1970-01-01T00:00:00Z');
export const PREVIEW_LATEST = Date.parse('3000-01-01T00:00:00Z');

/** What is wrong with a start and its pauses (paths relative to the body), empty when nothing is. */
export function previewProblems(start: number, pauses: PreviewPause[]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const outside = (t: number) => !(t >= PREVIEW_EARLIEST && t < PREVIEW_LATEST);
  const range = 'Must lie between 1970-01-01 and 3000-01-01.';
  if (outside(start)) problems.push({ path: 'start', message: range });
  pauses.forEach((p, i) => {
    if (outside(p.from)) problems.push({ path: `pauses.${i}.from`, message: range });
    if (outside(p.to)) problems.push({ path: `pauses.${i}.to`, message: range });
    if (p.to <= p.from) problems.push({ path: `pauses.${i}.to`, message: 'A pause must end after it starts.' });
    if (p.from < start) problems.push({ path: `pauses.${i}.from`, message: 'A pause cannot start before the SLA starts.' });
  });
  const order = pauses.map((p, i) => ({ ...p, i })).sort((a, b) => a.from - b.from);
  for (let k = 1; k < order.length; k++) {
    if (order[k]!.from < order[k - 1]!.to) {
      problems.push({ path: `pauses.${order[k]!.i}.from`, message: `This pause overlaps pause ${order[k - 1]!.i}.` });
    }
  }
  return problems;
}

/** One metric's deadlines as the workflow would arm them. */
export interface MetricPreview {
  target_seconds: number;
  /** the breach instant; null when the calendar cannot reach it within its search horizon */
  due_at: string | null;
  at_risk_at: string | null;
  /** every signal in the order it would fire (at-risk and breach, or more warning levels: `level` names each) */
  signals: { signal: string; at: string; level?: string }[];
  /** business seconds counted at the deadline (= the target) and the wall-clock seconds it took */
  business_seconds: number;
  wall_seconds: number | null;
}

export interface SlaPreview {
  start: string;
  assign: MetricPreview;
  resolve: MetricPreview;
  timeline: SlaTimelineEntry[];
}

/**
 * Record, at their due instants, the signals due at or before `until` — all at once, as the
 * workflow does (firing one never moves another: the clocks do not change).
 */
function fireUntil(state: { sla: TicketSla; timeline: SlaTimelineEntry[]; fired: DueSignal[] }, until: number): void {
  for (const due of dueSignals(state.sla, until)) {
    const step = fireSignal(state.sla, due, due.at);
    state.sla = step.sla;
    state.timeline.push(...step.timeline);
    state.fired.push(due);
  }
}

/**
 * The deadlines of a ticket created at `start` under `terms`, paused during `pauses` (checked with
 * previewProblems) and otherwise left alone: nobody assigns or resolves it, so both clocks run to
 * their breach.
 */
export function previewSla(terms: SlaTerms, start: number, pauses: PreviewPause[]): SlaPreview {
  const first = startSla(terms, start, false);
  const state = { sla: first.sla, timeline: [...first.timeline], fired: [] as DueSignal[] };
  for (const p of [...pauses].sort((a, b) => a.from - b.from)) {
    fireUntil(state, p.from);
    const paused = followStatus(state.sla, p.status ?? 'paused', p.from);
    state.sla = paused.sla;
    state.timeline.push(...paused.timeline);
    fireUntil(state, p.to); // a clock the status leaves running may fire meanwhile
    const resumed = followStatus(state.sla, 'open', p.to);
    state.sla = resumed.sla;
    state.timeline.push(...resumed.timeline);
  }
  fireUntil(state, Number.POSITIVE_INFINITY);
  const metric = (m: SlaMetric): MetricPreview => {
    const fired = state.fired.filter((s) => s.metric === m);
    const due = fired.find((s) => s.signal === 'breached')?.at ?? null;
    const atRisk = fired.find((s) => s.signal === 'at_risk')?.at ?? null;
    return {
      target_seconds: state.sla[m].targetSeconds,
      due_at: due === null ? null : new Date(due).toISOString(),
      at_risk_at: atRisk === null ? null : new Date(atRisk).toISOString(),
      signals: fired.map((s) => ({
        signal: s.signal,
        at: new Date(s.at).toISOString(),
        ...(state.sla.warningLevels && s.level ? { level: levelLabel(s.level) } : {}),
      })),
      business_seconds: state.sla[m].targetSeconds,
      wall_seconds: due === null ? null : Math.round((due - start) / 1000),
    };
  };
  return { start: new Date(start).toISOString(), assign: metric('assign'), resolve: metric('resolve'), timeline: state.timeline };
}

/** What a real ticket went through, as its row and audit log recorded it. */
export interface TicketHistory {
  ticketNumber: string;
  createdAt: number;
  /** null: never assigned to a user; equal to createdAt: created assigned */
  firstAssignedAt: number | null;
  /** every status change in order (the audit log's `status` entries) */
  statusChanges: { at: number; from: string; to: string }[];
}

export type MetricOutcome = Record<SlaMetric, boolean>;

export interface ReplayOutcome {
  /** per metric: breached in at least one cycle */
  breached: MetricOutcome;
  /** breaches counted per cycle (a reopen starts a new one) */
  breaches: Record<SlaMetric, number>;
}

/**
 * The ticket's history replayed under `terms` up to `now`: the same change rules the workflow
 * applies (pause, resume, resolve, reopen, first assignment), with every signal fired when due.
 * Priority changes are left out: the draft applies to the ticket's whole life.
 */
export function replayTicket(terms: SlaTerms, h: TicketHistory, now: number): ReplayOutcome {
  const created = h.createdAt;
  const assignedAtCreation = h.firstAssignedAt !== null && h.firstAssignedAt <= created;
  const first = startSla(terms, created, assignedAtCreation);
  let snapshot: TicketSnapshot = {
    id: h.ticketNumber,
    ticketNumber: h.ticketNumber,
    title: '',
    description: '',
    priority: 'medium',
    status: 'open',
    category: null,
    tags: [],
    assignedGroupId: null,
    assignedUserId: assignedAtCreation ? 'assignee' : null,
    createdById: null,
    version: 1,
    createdAt: new Date(created).toISOString(),
    firstAssignedAt: assignedAtCreation ? new Date(created).toISOString() : null,
    resolvedAt: null,
    pausedAt: null,
    totalPausedSeconds: 0,
    deleted: false,
    sla: first.sla,
  };
  const state = { sla: first.sla, timeline: [] as SlaTimelineEntry[], fired: [] as DueSignal[] };

  const changes = new Map<number, TicketChanges>();
  const at = (t: number) => changes.get(t) ?? changes.set(t, {}).get(t)!;
  for (const c of h.statusChanges) at(c.at).status = c.to as TicketStatus;
  if (h.firstAssignedAt !== null && !assignedAtCreation) at(h.firstAssignedAt).assignedUserId = 'assignee';

  for (const t of [...changes.keys()].sort((a, b) => a - b)) {
    if (t > now) break;
    // like the workflow: signals already due are recorded before the change
    fireUntil(state, t);
    snapshot = { ...snapshot, sla: state.sla };
    const applied = applyChange(snapshot, changes.get(t)!, new Date(t).toISOString());
    snapshot = applied.next;
    state.sla = snapshot.sla!;
  }
  fireUntil(state, now);
  const breaches = Object.fromEntries(
    SLA_METRICS.map((m) => [m, state.fired.filter((s) => s.metric === m && s.signal === 'breached').length]),
  ) as Record<SlaMetric, number>;
  return { breaches, breached: { assign: breaches.assign > 0, resolve: breaches.resolve > 0 } };
}

/** One breach as the ticket's history recorded it. */
export interface BreachRecord {
  metric: SlaMetric;
  cycle: number;
  /** the deadline that passed */
  due_at: string;
  /** when the workflow recorded it (later than due_at only if no worker ran at the deadline) */
  recorded_at: string;
  target_seconds: number;
}

/** Breaches per metric and cycle, oldest first, from the stored `ticket.sla_breached` events' `data.sla`. */
export function breachHistory(events: { created_at: Date | string; sla: unknown }[]): BreachRecord[] {
  const out: BreachRecord[] = [];
  for (const e of events) {
    const s = e.sla as Partial<{ metric: SlaMetric; signal: string; due_at: string; cycle: number; target_seconds: number }> | null;
    if (!s || s.signal !== 'breached' || !s.metric || !s.due_at) continue;
    out.push({
      metric: s.metric,
      cycle: s.cycle ?? 1,
      due_at: s.due_at,
      recorded_at: new Date(e.created_at).toISOString(),
      target_seconds: s.target_seconds ?? 0,
    });
  }
  return out.sort((a, b) => Date.parse(a.due_at) - Date.parse(b.due_at) || a.metric.localeCompare(b.metric));
}
