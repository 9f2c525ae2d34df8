/** The benchmarks' engine cost per operation, cut from recorded ticket histories. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { firstTimerTimeline, operationCosts, summarizeCosts } from '../../bench/lib/history-cost.js';

const { History } = proto.temporal.api.history.v1;
const FIXTURES = path.join(import.meta.dirname, '../workflows/histories');
const fixture = async (name: string) => History.decode(await readFile(path.join(FIXTURES, name))).events ?? [];
/** The one recorded fixture whose name starts with `prefix`. */
const fixtureNamed = async (prefix: string) => {
  const [name, ...others] = (await readdir(FIXTURES)).filter((f) => f.startsWith(prefix));
  expect(name, prefix).toBeDefined();
  expect(others).toEqual([]);
  return fixture(name!);
};

describe('operationCosts', () => {
  it('cuts a history at each accepted Update and each fired timer, and counts every event once', async () => {
    const events = await fixture('continued-6d686650.history.pb');
    const ops = operationCosts(events);
    expect(ops.map((o) => o.operation)).toEqual([
      'create',
      'change',
      'addNote',
      'editNote',
      'attachments',
      'attachments',
      'change', // its write refused for good (the activity fails once)
      'change',
    ]);
    expect(ops.reduce((n, o) => n + o.events, 0)).toBe(events.length);
    // every operation but the create is one write: one activity task, two workflow tasks
    for (const op of ops.slice(1, 6)) expect(op).toMatchObject({ activity_tasks: 1, workflow_tasks: 2, local_activities: 0 });
    // the create's row; its search attributes once; four patches first used (marker + version upsert each)
    expect(ops[0]).toMatchObject({ activity_tasks: 1, upserts: 1, patch_markers: 4 });
    const notes = ops.filter((o) => o.operation === 'addNote' || o.operation === 'editNote');
    expect(notes.every((o) => o.upserts === 0)).toBe(true); // a note changes no search attribute
  });

  it('a ticketWorkflowV2 create: one workflow task, its write a local activity, no patch marker', async () => {
    const events = await fixtureNamed('v2-sla-');
    const ops = operationCosts(events);
    expect(ops[0]).toMatchObject({
      operation: 'create',
      workflow_tasks: 1,
      activity_tasks: 0,
      local_activities: 1,
      patch_markers: 0,
      upserts: 1,
    });
    expect(ops.map((o) => o.operation)).toEqual(expect.arrayContaining(['sla_signal', 'change', 'delete']));
    expect(ops.every((o) => o.patch_markers === 0)).toBe(true);
    expect(ops.slice(1).every((o) => o.local_activities === 0)).toBe(true); // changes and signals: regular activities
    expect(ops.reduce((n, o) => n + o.events, 0)).toBe(events.length);
  });

  it('names the timer-driven operations sla_signal, a carried run’s start carried_start, others start', async () => {
    const sla = operationCosts(await fixture('sla-b0d62194.history.pb'));
    expect(sla.map((o) => o.operation)).toContain('sla_signal');
    const carried = operationCosts(await fixture('carried-6d686650.history.pb'));
    expect(carried[0]).toMatchObject({ operation: 'carried_start', activity_tasks: 0 });
    expect(carried.at(-1)!.operation).toBe('delete');
    expect(operationCosts(await fixture('webhook-deliveries-0f74e253.history.pb'))[0]!.operation).toBe('start');
  });

  it('summarizes per operation: samples, means and p99s', () => {
    const op = (operation: string, n: number) => ({
      operation,
      workflow_tasks: n,
      activity_tasks: 1,
      local_activities: 0,
      upserts: 0,
      patch_markers: 0,
      events: 10 * n,
    });
    const summary = summarizeCosts([op('change', 2), op('change', 4), op('create', 3)]);
    expect(summary.change).toMatchObject({
      samples: 2,
      workflow_tasks_mean: 3,
      workflow_tasks_p99: 4,
      events_mean: 30,
      activity_tasks_mean: 1,
    });
    expect(summary.create).toMatchObject({ samples: 1, events_p99: 30 });
  });
});

describe('firstTimerTimeline', () => {
  it('reads the first timer: its task, its duration, its firing and the task that handled it, in order', async () => {
    const events = await fixture('sla-b0d62194.history.pb');
    const t = firstTimerTimeline(events)!;
    const timer = events.find((e) => e.timerStartedEventAttributes)!.timerStartedEventAttributes!;
    expect(t.durationMs).toBe(Number(timer.startToFireTimeout!.seconds) * 1000 + Math.floor((timer.startToFireTimeout!.nanos ?? 0) / 1e6));
    expect(t.taskStarted).toBeLessThanOrEqual(t.taskCompleted);
    expect(t.taskCompleted).toBeLessThanOrEqual(t.fired);
    expect(t.fired).toBeLessThanOrEqual(t.nextTaskStarted);
    // the server fires a timer no earlier than its start plus its duration
    expect(t.fired).toBeGreaterThanOrEqual(t.taskCompleted + t.durationMs - 1);
  });

  it('is null for a history without a timer', () => {
    expect(firstTimerTimeline([])).toBeNull();
  });
});
