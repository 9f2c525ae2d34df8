/**
 * The mutation plans against recorded histories: every write a recorded ticket history scheduled
 * (`persistTicketMutation`) is rebuilt from the snapshot before it, the Update that asked for it
 * (or the SLA signals due at its instant) and the SLA terms read for it, and must come out byte for
 * byte as the activity input the history holds. Replay (replay.test.ts) checks that the same
 * activities are scheduled in the same order; this checks their arguments, which replay does not
 * compare. Histories whose writes ran as local activities carry no inputs and are skipped; a
 * ticketWorkflowV2 create's local activity is read from its marker (its result is the snapshot).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../workflows/definitions.js';
import { planSlaSignals, TICKET_MUTATIONS, type MutationKind, type Plan } from '../../workflows/mutations/index.js';
import type { TicketSnapshot } from '../../workflows/ticket-state.js';
import type { SlaMetric } from '../../workflows/sla/clock.js';
import { V2_IMPLIED_PATCHES } from '../../workflows/patches.js';

const FIXTURES = path.join(import.meta.dirname, 'histories');
const { History } = proto.temporal.api.history.v1;
type Payloads = { payloads?: { data?: Uint8Array | null }[] | null } | null | undefined;
const raw = (p: Payloads, i = 0) => Buffer.from(p!.payloads![i]!.data!).toString('utf8');
const SYSTEM: Actor = { type: 'system', userId: null };

interface Checked {
  writes: number;
  fromUpdates: number;
  fromSignals: number;
}

/** Rebuild each recorded write from its plan; throws (via expect) on the first that differs. */
function checkHistory(file: string, history: proto.temporal.api.history.v1.IHistory): Checked {
  const events = history.events ?? [];
  const started = events[0]!.workflowExecutionStartedEventAttributes!;
  const input = JSON.parse(raw(started.input));
  // ticketWorkflowV2 implies the patches of its time (workflows/patches.ts)
  const patches = new Set<string>(started.workflowType?.name === 'ticketWorkflowV2' ? V2_IMPLIED_PATCHES : []);
  for (const e of events) {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName === 'core_patch') patches.add(JSON.parse(raw(m.details!['patch-data'])).id);
  }
  // Updates in the order they were accepted: the workflow applies them one at a time in that order
  const accepted: { name: string; req: any }[] = [];
  for (const e of events) {
    const update = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    if (update?.args?.payloads?.length) accepted.push({ name: update.name!, req: JSON.parse(raw(update.args)) });
  }
  const kindOf = (name: string) => TICKET_MUTATIONS.find((x) => x.update.name === name)!.kind as MutationKind<unknown>;
  const scheduled = new Map<number, { type: string; planned?: Plan }>();
  let snapshot: TicketSnapshot | null = input.carried?.snapshot ?? null;
  let terms: unknown;
  const checked: Checked = { writes: 0, fromUpdates: 0, fromSignals: 0 };
  for (const e of events) {
    const local = localActivity(e);
    if (local?.type === 'createTicketRecord' && local.result?.payloads?.length) snapshot = JSON.parse(raw(local.result));
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const type = s.activityType!.name!;
      const entry: { type: string; planned?: Plan } = { type };
      scheduled.set(Number(e.eventId), entry);
      if (type !== 'persistTicketMutation') continue;
      const recorded = raw(s.input);
      const m = JSON.parse(recorded);
      expect(snapshot, `${file}: a write before the ticket existed`).not.toBeNull();
      let plan: Plan | null;
      let actor: Actor;
      let origin = {};
      if (m.actor.type !== 'system') {
        // the write names its Update (older code did not: then it is the next accepted one that
        // passes its check and changes something, as the workflow applies them in order)
        const patched = (id: string) => patches.has(id);
        let found: { name: string; req: any } | undefined;
        plan = null;
        while (!plan && accepted.length > 0) {
          const next = accepted.shift()!;
          if (m.updateId !== undefined && next.req.requestId !== m.updateId) continue;
          const kind = kindOf(next.name);
          if (kind.check(snapshot!, next.req)) continue;
          // since 'sla-rules' the terms travel in the request (or came from matchSlaTerms, read above)
          const needed = patched('sla-rules') ? (kind.slaTerms?.(snapshot!, next.req) ?? null) : null;
          const carried = needed && 'terms' in needed ? needed.terms : undefined;
          const ctx = { at: m.at, terms: ((carried !== undefined ? carried : terms) ?? undefined) as never, patched };
          plan = kind.plan(snapshot!, next.req, ctx);
          found = next;
        }
        expect(found, `${file}: the Update behind write ${m.version}`).toBeDefined();
        actor = found!.req.actor;
        // the Update and API request a write names (since the code that wrote them)
        if (m.updateId !== undefined) origin = { updateId: found!.req.requestId, requestId: found!.req.apiRequestId };
        checked.fromUpdates++;
      } else {
        const metric = (m.audit[0].field as string).replace('sla.', '') as SlaMetric;
        plan = planSlaSignals(snapshot!, metric, Date.parse(m.at));
        actor = SYSTEM;
        checked.fromSignals++;
      }
      expect(plan, `${file}: write ${m.version} is planned`).not.toBeNull();
      const { next, timeline: _timeline, ...record } = plan!;
      const rebuilt = { ticketId: snapshot!.id, version: next.version, at: m.at, actor, ticket: next, ...origin, ...record };
      expect(JSON.stringify(rebuilt), `${file}: write ${m.version}`).toBe(recorded);
      entry.planned = plan!;
      terms = undefined;
      checked.writes++;
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const entry = scheduled.get(Number(done.scheduledEventId))!;
      const text = done.result?.payloads?.length ? raw(done.result) : '';
      const result = text ? JSON.parse(text) : undefined; // a void result is an empty payload
      if (entry.type === 'createTicketRecord') snapshot = result;
      if (entry.type === 'loadSlaTerms' || entry.type === 'matchSlaTerms') terms = result;
      if (entry.planned) snapshot = entry.planned.next;
    }
  }
  return checked;
}

/** A local activity's marker: its activity type and result. */
function localActivity(e: proto.temporal.api.history.v1.IHistoryEvent): { type: string; result: Payloads } | null {
  const m = e.markerRecordedEventAttributes;
  if (m?.markerName !== 'core_local_activity') return null;
  return { type: JSON.parse(raw(m.details!['data'])).activity_type, result: m.details!['result'] };
}

describe('mutation plans against recorded histories', () => {
  it('rebuild every recorded write exactly, for each kind of mutation', async () => {
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.history.pb'));
    const totals: Checked = { writes: 0, fromUpdates: 0, fromSignals: 0 };
    const kinds = new Set<string>();
    let v2 = 0;
    for (const file of files) {
      const history = History.decode(await readFile(path.join(FIXTURES, file)));
      const events = history.events ?? [];
      const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (type !== 'ticketWorkflow' && type !== 'ticketWorkflowV2') continue;
      // writes as local activities (runs of the short-lived 'local-activity-writes' code): no inputs to compare
      if (events.some((e) => localActivity(e) && localActivity(e)!.type !== 'createTicketRecord')) continue;
      if (type === 'ticketWorkflowV2') v2++;
      for (const e of events) {
        const name = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
        if (name) kinds.add(name);
      }
      const checked = checkHistory(file, history);
      totals.writes += checked.writes;
      totals.fromUpdates += checked.fromUpdates;
      totals.fromSignals += checked.fromSignals;
    }
    // every kind in the table was recorded at least once, and SLA signals too
    for (const { update } of TICKET_MUTATIONS) expect(kinds, update.name).toContain(update.name);
    expect(totals.fromSignals).toBeGreaterThan(0);
    expect(totals.fromUpdates).toBeGreaterThan(20);
    expect(v2, 'ticketWorkflowV2 histories checked').toBeGreaterThan(0);
  });
});
