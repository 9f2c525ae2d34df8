/**
 * What each ticket operation cost the engine, read from workflow histories: workflow tasks,
 * activity tasks (and local activities), search-attribute upserts, patch markers and history events.
 *
 * A ticket history is cut into operations where each one begins: the create at the start; a
 * mutation at the workflow task that accepted its Update; an SLA signal at the timer that fired
 * it. Each operation owns the events up to the next one's beginning (so re-arming the SLA timer
 * counts to the operation that moved it). Signals already due when a mutation arrives are written
 * inside that mutation, and at-risk signals due during a create inside the create.
 */
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import { percentile, round } from './harness.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface OperationCost {
  /** `create`, the Update's name (`change`, `addNote`, `editNote`, `attachments`, `delete`) or `sla_signal` */
  operation: string;
  workflow_tasks: number;
  activity_tasks: number;
  local_activities: number;
  /** search-attribute upserts of the ticket's own attributes */
  upserts: number;
  /** `patched()` markers, each with the SDK's TemporalChangeVersion upsert (2 events, a visibility write) */
  patch_markers: number;
  events: number;
}

/** Where an operation begins at event index `i`, and its name; null when none begins there. */
function beginning(events: HistoryEvent[], i: number): string | null {
  const e = events[i]!;
  if (e.timerFiredEventAttributes) return 'sla_signal';
  if (!e.workflowTaskScheduledEventAttributes) return null;
  // the Update's acceptance is written after the task that accepted it (scheduled, started, completed)
  for (let j = i + 1; j < events.length && j <= i + 4; j++) {
    const name = events[j]!.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    if (name && name !== 'created') return name;
    if (events[j]!.workflowTaskScheduledEventAttributes || events[j]!.timerFiredEventAttributes) return null;
  }
  return null;
}

/** Every operation of one ticket workflow's history (one run), in order. */
export function operationCosts(events: HistoryEvent[]): OperationCost[] {
  const ops: OperationCost[] = [];
  // a ticket's first run begins with its create, a later one from carried state; other workflows just start
  const data = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  const input: unknown = data?.length ? JSON.parse(Buffer.from(data).toString('utf8')) : null;
  const has = (key: string) => typeof input === 'object' && input !== null && key in input;
  const first = has('create') ? 'create' : has('carried') ? 'carried_start' : 'start';
  let current: OperationCost = {
    operation: first,
    workflow_tasks: 0,
    activity_tasks: 0,
    local_activities: 0,
    upserts: 0,
    patch_markers: 0,
    events: 0,
  };
  for (let i = 0; i < events.length; i++) {
    const name = i > 0 ? beginning(events, i) : null;
    if (name) {
      ops.push(current);
      current = { operation: name, workflow_tasks: 0, activity_tasks: 0, local_activities: 0, upserts: 0, patch_markers: 0, events: 0 };
    }
    const e = events[i]!;
    current.events++;
    if (e.workflowTaskCompletedEventAttributes) current.workflow_tasks++;
    if (e.activityTaskScheduledEventAttributes) current.activity_tasks++;
    if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') current.local_activities++;
    const upserted = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
    if (upserted.some((key) => key !== 'TemporalChangeVersion')) current.upserts++;
    if (e.markerRecordedEventAttributes?.markerName === 'core_patch') current.patch_markers++;
  }
  ops.push(current);
  return ops;
}

/** Per operation over many histories: how many were seen, and the mean and p99 of each cost. */
export function summarizeCosts(all: OperationCost[]): Record<string, Record<string, number>> {
  const by = new Map<string, OperationCost[]>();
  for (const op of all) by.set(op.operation, [...(by.get(op.operation) ?? []), op]);
  const out: Record<string, Record<string, number>> = {};
  for (const [operation, ops] of by) {
    const row: Record<string, number> = { samples: ops.length };
    for (const key of ['workflow_tasks', 'activity_tasks', 'local_activities', 'upserts', 'patch_markers', 'events'] as const) {
      const xs = ops.map((o) => o[key]).sort((a, b) => a - b);
      row[`${key}_mean`] = round(xs.reduce((s, x) => s + x, 0) / xs.length, 2);
      row[`${key}_p99`] = percentile(xs, 99);
    }
    out[operation] = row;
  }
  return out;
}

/** An event's time in epoch ms (NaN for a missing event). */
export const eventMs = (e: HistoryEvent | undefined): number => optionalTsToMs(e?.eventTime) ?? NaN;

/** Instants (ms) around a history's first timer, to take a signal's lateness apart. */
export interface TimerTimeline {
  /** the workflow task that started the timer: when it started and when it completed */
  taskStarted: number;
  taskCompleted: number;
  /** the timer's duration as the workflow asked it */
  durationMs: number;
  fired: number;
  /** the workflow task that handled the firing started (the workflow clock the signal is written with) */
  nextTaskStarted: number;
}

export function firstTimerTimeline(events: HistoryEvent[]): TimerTimeline | null {
  const byId = new Map<number, HistoryEvent>();
  for (const e of events) byId.set(Number(e.eventId), e);
  const started = events.find((e) => e.timerStartedEventAttributes);
  if (!started) return null;
  const attrs = started.timerStartedEventAttributes!;
  const completed = byId.get(Number(attrs.workflowTaskCompletedEventId));
  const taskStart = byId.get(Number(completed?.workflowTaskCompletedEventAttributes?.startedEventId));
  const i = events.findIndex((e) => e.timerFiredEventAttributes?.timerId === attrs.timerId);
  if (i < 0) return null;
  const next = events.slice(i).find((e) => e.workflowTaskStartedEventAttributes);
  return {
    taskStarted: eventMs(taskStart),
    taskCompleted: eventMs(completed),
    durationMs: optionalTsToMs(attrs.startToFireTimeout) ?? NaN,
    fired: eventMs(events[i]),
    nextTaskStarted: eventMs(next),
  };
}
