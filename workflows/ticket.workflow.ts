/**
 * One long-lived workflow per ticket (ID `ticket-<uuid>`). It holds the ticket's state, accepts
 * every mutation as an Update (validated synchronously before it reaches history), plans it with
 * its kind from the table in workflows/mutations (pure: next snapshot, audit entries, events),
 * persists each through one idempotent activity keyed by the new version, keeps the search
 * attributes current, and continues-as-new before its history grows large, carrying its state
 * and recent results.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  makeContinueAsNewFunc,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy, SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import {
  AssignedGroupKey,
  AssignedUserKey,
  createdUpdate,
  SlaBreachedKey,
  slaQuery,
  stateQuery,
  TicketNumberKey,
  TicketPriorityKey,
  TicketStatusKey,
  type MutationResult,
  type TicketCreateInput,
  type TicketState,
  type Actor,
} from './definitions.js';
import type { Rejection, TicketSnapshot } from './ticket-state.js';
import { PERMANENT_WRITE_FAILURES, TICKET_FAILURES } from './vocabulary.js';
import { isBreached, nextSlaInstant, SLA_METRICS, startSla, type SlaTerms, type SlaTimelineEntry, type TicketSla } from './sla/clock.js';
import { adoptable } from './sla/warnings.js';
import { CONTINUE_AS_V2_PATCH, implyV2Patches, isPatched, SLA_LOCAL_WRITES_PATCH } from './patches.js';
import {
  planSlaSignals,
  TICKET_MUTATIONS,
  type LiveState,
  type MutationKind,
  type MutationRequestBase,
  type Plan,
  type TicketMutationEntry,
} from './mutations/index.js';

// A database outage must not lose an accepted change: retry, backing off to 30 s, until it is back.
const WRITE_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: [TICKET_FAILURES.invalidReference],
};

const remoteRecords = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: WRITE_RETRY });
/**
 * A merge's absorb on its target (an Update the activity waits on, behind the target's own queue):
 * retried like a write until the target answers; its refusal (merge_refused) is final.
 */
const crossTicket = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { ...WRITE_RETRY, nonRetryableErrorTypes: [TICKET_FAILURES.invalidReference, TICKET_FAILURES.mergeRefused] },
});
/**
 * Local activities (each write inside the workflow task that decided it) were tried and dropped:
 * while a workflow task waits on a local activity, Updates that arrive for the same ticket are
 * delivered to the worker but not answered in that task, and the server rejects them ("wasn't
 * processed by worker"): 25 simultaneous changes to one ticket gave 500s and 503s
 * (tests/api/concurrent-updates.test.ts). Regular activities are slower (one activity task per
 * write) but every Update is answered. Writes are idempotent per ticket version either way.
 */
const localRecords = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: WRITE_RETRY });

/**
 * ticketWorkflowV2's create: the row is written by a local activity inside the run's first workflow
 * task, which also accepts and answers the `created` Update (one workflow task, no activity task).
 * The objection above does not apply: no other Update can reach a ticket before its create has
 * returned the id, and a retried create sends the same Update id (src/commands/tickets/create.ts),
 * which the server attaches to the one in flight. If the worker dies after the write, the task is
 * retried and the activity runs again: createTicketRecord returns the row already written.
 */
const localCreate = localRecords;

/**
 * Workflow versioning, in order: runs from before 'local-activity-writes' used regular
 * activities; runs between it and 'regular-activity-writes' used local ones (their histories must
 * replay as such); runs since use regular ones again. Deprecate both once no older run is open.
 */
const records = (): typeof remoteRecords => {
  if (!isPatched('local-activity-writes')) return remoteRecords;
  return isPatched('regular-activity-writes') ? remoteRecords : localRecords;
};

type Mutation = Parameters<Activities['persistTicketMutation']>[0];

/** Write one planned version: one activity per version, keyed by it. */
async function writeVersion(
  s: TicketSnapshot,
  actor: Actor,
  at: string,
  plan: Plan,
  origin: Pick<Mutation, 'updateId' | 'requestId'> = {},
  via: typeof remoteRecords = records(),
): Promise<void> {
  const { next, timeline: _timeline, ...record } = plan;
  await via.persistTicketMutation({ ticketId: s.id, version: next.version, at, actor, ticket: next, ...origin, ...record });
}

/** How many recent mutation results survive continue-as-new (for retried requests). */
const RECENT_RESULTS = 200;
/** Continue-as-new after this many mutations even if the server has not suggested it yet (ticketWorkflow). */
const DEFAULT_MAX_MUTATIONS_PER_RUN = 1_000;
/**
 * The same for ticketWorkflowV2: a ticket touched outside the worker's cache replays its current
 * run, about 0.45 ms per event here (issue 19: a 10,994-event run of 1,000 changes took 4.9 s);
 * 200 mutations (about 2,200 events) bound that to about 1 s, for one more run start per 200
 * changes. Only V2 runs, which had no history before this, use it.
 */
const V2_MAX_MUTATIONS_PER_RUN = 200;
/** The SLA timeline keeps its most recent entries (a ticket paused thousands of times stays small). */
const MAX_TIMELINE = 500;

const SYSTEM: Actor = { type: 'system', userId: null };

export interface CarriedState {
  snapshot: TicketSnapshot;
  recent: [string, MutationResult][];
  timeline?: SlaTimelineEntry[];
  timelineDropped?: number;
}

export interface TicketWorkflowInput {
  create?: TicketCreateInput;
  carried?: CarriedState;
  /** lower in tests to exercise continue-as-new quickly */
  maxMutationsPerRun?: number;
}

function reject(
  r:
    | Rejection
    | {
        type: typeof TICKET_FAILURES.ticketNotReady | typeof TICKET_FAILURES.ticketDraining;
        message: string;
        details: Record<string, unknown>;
      },
): never {
  throw ApplicationFailure.create({ type: r.type, message: r.message, details: [r.details], nonRetryable: true });
}

/** The write's failure when the activity failed for good (bad data, a version gap; see activities/write-failures.ts). */
/** An activity's own failure: a regular activity's arrives wrapped in an ActivityFailure, a local activity's as it is. */
const activityCause = (err: unknown): unknown => (err instanceof ActivityFailure ? err.cause : err);

function permanentWriteFailure(err: unknown): ApplicationFailure | null {
  const cause = activityCause(err);
  return cause instanceof ApplicationFailure && PERMANENT_WRITE_FAILURES.includes(cause.type ?? '') ? cause : null;
}

/** Which Update and API request a write comes from (named in the log line of a failed write). */
const origin = (req: { requestId: string; apiRequestId?: string }) => ({ updateId: req.requestId, requestId: req.apiRequestId });

/** The answer for a change whose write failed for good: the same type and details, non-retryable. */
const refusedWrite = (f: ApplicationFailure) =>
  ApplicationFailure.create({ type: f.type ?? undefined, message: f.message, details: f.details ?? undefined, nonRetryable: true });

/** The other ticket's refusal of a cross-ticket step (a merge target that may not take the source). */
function crossTicketRefusal(err: unknown): ApplicationFailure | null {
  const cause = activityCause(err);
  return cause instanceof ApplicationFailure && cause.type === TICKET_FAILURES.mergeRefused ? cause : null;
}

/** Runs mutations one at a time: each sees the version the previous one produced. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The ticket as the workflow knows it; handlers delegate here. */
class TicketEntity {
  snapshot: TicketSnapshot | null;
  creationFailure: ApplicationFailure | null = null;
  mutationsThisRun = 0;
  /**
   * The run is about to continue-as-new and waits for its handlers to finish: it accepts no more
   * Updates (the API retries them on the next run). Without this, changes arriving back to back
   * kept the run from ever finishing its handlers: a ticket under steady load never continued,
   * and its history grew past 10,000 events (issue 19's replay bench). Validators do not run on
   * replay, so no history changes.
   */
  draining = false;
  /** when the next SLA signal is due (epoch ms), or null when no clock runs */
  slaNext: number | null = null;
  timeline: SlaTimelineEntry[];
  timelineDropped: number;
  private readonly serial = new Serial();
  private readonly recent: Map<string, MutationResult>;
  /** the other ticket accepted, unfinished mutations involve (a merge's target), and how many */
  private involvedId: string | null = null;
  private involvedCount = 0;

  constructor(carried: CarriedState | undefined) {
    this.snapshot = carried?.snapshot ?? null;
    this.recent = new Map(carried?.recent ?? []);
    this.timeline = carried?.timeline ?? [];
    this.timelineDropped = carried?.timelineDropped ?? 0;
    this.slaNext = this.snapshot?.sla ? nextSlaInstant(this.snapshot.sla) : null;
  }

  /** The ticket as its row now holds it. */
  setSnapshot(next: TicketSnapshot): void {
    this.snapshot = next;
    this.slaNext = next.sla && !next.deleted ? nextSlaInstant(next.sla) : null;
    this.upsertAttributes(next);
    // what the Web UI shows as the workflow's current details (metadata only: no command, replay-safe)
    setCurrentDetails(ticketDetails(next));
  }

  private upserted = new Map<string, unknown>();

  /**
   * Search attributes: only those that changed (each upsert is a visibility write on the server;
   * most changes — notes, titles, SLA at-risk — change none). Histories from before the patch
   * upserted all of them every time.
   */
  private upsertAttributes(s: TicketSnapshot): void {
    const all = searchAttributes(s);
    if (!isPatched('upsert-changed-attributes')) {
      upsertSearchAttributes(all);
      return;
    }
    const changed = all.filter((a) => !this.upserted.has(a.key.name) || this.upserted.get(a.key.name) !== a.value);
    if (changed.length === 0) return;
    upsertSearchAttributes(changed);
    for (const a of changed) this.upserted.set(a.key.name, a.value);
  }

  recordTimeline(entries: SlaTimelineEntry[]): void {
    this.timeline.push(...entries);
    const excess = this.timeline.length - MAX_TIMELINE;
    if (excess > 0) {
      this.timeline.splice(0, excess);
      this.timelineDropped += excess;
    }
  }

  get deleted(): boolean {
    return this.snapshot?.deleted ?? false;
  }

  /** merged into another ticket: terminal, the workflow ends */
  get merged(): boolean {
    return this.snapshot?.status === 'merged';
  }

  live(): LiveState {
    return { involved: this.involvedId };
  }

  /** Runs a mutation that involves `other` (a merge): meanwhile this ticket takes no absorb. */
  async involving<T>(other: string, run: () => Promise<T>): Promise<T> {
    this.involvedId = other;
    this.involvedCount++;
    try {
      return await run();
    } finally {
      if (--this.involvedCount === 0) this.involvedId = null;
    }
  }

  /** The synchronous validator shared by every mutation. */
  validate(requestId: string, check: (s: TicketSnapshot) => Rejection | null): void {
    if (this.recent.has(requestId)) return; // a retry: answered from memory
    if (!this.snapshot)
      reject({ type: TICKET_FAILURES.ticketNotReady, message: 'The ticket is still being created; retry shortly.', details: {} });
    if (this.draining)
      reject({ type: TICKET_FAILURES.ticketDraining, message: 'The ticket is moving to a fresh run; retry shortly.', details: {} });
    const rejection = check(this.snapshot);
    if (rejection) reject(rejection);
  }

  /**
   * Serialise, re-check against the state the mutation will really see, plan, write, remember.
   * SLA signals already due are recorded first, so a change never overtakes a deadline that passed
   * (e.g. a resolve arriving with the timer of a deadline that fell while no worker ran).
   */
  mutate<R extends MutationRequestBase>(req: R, kind: MutationKind<R>): Promise<MutationResult> {
    return this.serial.run(async () => {
      const prior = this.recent.get(req.requestId);
      if (prior) return prior;
      this.validate(req.requestId, (s) => kind.check(s, req, this.live()));
      let next: TicketSnapshot | null = null;
      try {
        await this.recordDueSignals();
        const s = this.snapshot!;
        const at = new Date().toISOString();
        // a merge: the target records the source first (idempotent by its Update id), then the source is written
        const step = kind.before?.(s, req, at) ?? null;
        if (step) {
          if (!isPatched('ticket-merge')) throw new Error('a merge in a history from before merges'); // cannot happen: no such Update then
          try {
            await crossTicket.absorbIntoTicket(step);
          } catch (err) {
            const refusal = crossTicketRefusal(err);
            throw refusal ? refusedWrite(refusal) : err;
          }
        }
        const terms = await slaTermsFor(kind, s, req);
        const plan = kind.plan(s, req, { at, terms, patched: isPatched });
        if (plan) {
          await writeVersion(s, req.actor, at, plan, origin(req));
          this.recordTimeline(plan.timeline); // only once written: a refused write changes nothing
          next = plan.next;
        }
      } catch (err) {
        // A write no retry can fix: the ticket keeps its state and takes the next change; the
        // caller gets the reason. Before this patch such a write was retried for ever.
        const failure = permanentWriteFailure(err);
        if (failure && isPatched('permanent-write-failures')) throw refusedWrite(failure);
        throw err;
      }
      const result = next ? { version: next.version, changed: true } : { version: this.snapshot!.version, changed: false };
      if (next) {
        this.setSnapshot(next);
        this.mutationsThisRun++;
      }
      this.recent.set(req.requestId, result);
      if (this.recent.size > RECENT_RESULTS) this.recent.delete(this.recent.keys().next().value!);
      return result;
    });
  }

  /** Fire the SLA signals due now, in the serial order of mutations. */
  fireDueSignals(): Promise<void> {
    // Since SLA_LOCAL_WRITES_PATCH a signal its timer woke is written by a local activity inside that
    // workflow task (one task instead of two and an activity task). Not inside an Update's handler:
    // signals a change finds due are written as the change is, by a regular activity (see records).
    return this.serial.run(() => this.recordDueSignals(isPatched(SLA_LOCAL_WRITES_PATCH) ? localRecords : records()));
  }

  /**
   * Each due signal becomes a version of its own per metric: the row's breach columns, an audit
   * entry and an event, written once (the version is the idempotency key). Exactly once follows:
   * the fired instant is part of the state that every later run and replay starts from.
   */
  private async recordDueSignals(via: typeof remoteRecords = records()): Promise<void> {
    for (const metric of SLA_METRICS) {
      // Several warning levels due at once take a version each, so a clock with levels plans again
      // until nothing is due; a single-level clock writes one version per metric and pass, exactly
      // as recorded histories did (planning again would see a later `now` and schedule more:
      // tests/workflows/histories/sla-b0d62194.history.pb, assign at-risk, resolve at-risk, assign breach).
      for (;;) {
        const s = this.snapshot;
        if (!s) return;
        const now = Date.now();
        const plan = planSlaSignals(s, metric, now);
        if (!plan) break;
        await writeVersion(s, SYSTEM, new Date(now).toISOString(), plan, {}, via);
        this.setSnapshot(plan.next);
        this.recordTimeline(plan.timeline);
        if (!s.sla?.warningLevels) break;
      }
    }
  }

  carry(): CarriedState {
    return { snapshot: this.snapshot!, recent: [...this.recent], timeline: this.timeline, timelineDropped: this.timelineDropped };
  }
}

/**
 * The SLA terms a mutation's plan needs. Since 'sla-rules' a change of any matched field carries
 * the API's match (no activity) or is matched again by one; before it only a new priority read
 * its policy. The patch is asked only when the change needs terms, so other changes add no marker.
 */
async function slaTermsFor<R extends MutationRequestBase>(kind: MutationKind<R>, s: TicketSnapshot, req: R): Promise<SlaTerms | undefined> {
  const needed = kind.slaTerms?.(s, req) ?? null;
  if (needed && isPatched('sla-rules')) {
    const terms = 'terms' in needed ? needed.terms : await records().matchSlaTerms(needed.match);
    return terms ?? undefined;
  }
  const priority = kind.reads?.(s, req) ?? null;
  return priority !== null ? ((await records().loadSlaTerms(priority)) ?? undefined) : undefined;
}

/** The timeline's first lines, rebuilt from the clocks the creation activity started. */
function startTimeline(sla: TicketSla, s: TicketSnapshot): SlaTimelineEntry[] {
  const terms = {
    assignTargetSeconds: sla.assign.targetSeconds,
    resolveTargetSeconds: sla.resolve.targetSeconds,
    atRiskPercent: sla.atRiskPercent,
    calendar: sla.calendar,
    warningLevels: sla.warningLevels,
    pauseStatuses: sla.pauseStatuses,
  };
  return startSla(terms, Date.parse(s.createdAt), s.firstAssignedAt !== null).timeline;
}

/** The ticket as an operator recognises it in the Web UI: number, status, priority, title (Markdown). */
function ticketDetails(s: TicketSnapshot): string {
  const state = s.deleted ? 'deleted' : s.status;
  return `**${s.ticketNumber}** · ${state} · ${s.priority}\n\n${s.title}`;
}

function searchAttributes(s: TicketSnapshot): SearchAttributeUpdatePair[] {
  return [
    { key: TicketNumberKey, value: s.ticketNumber },
    { key: TicketStatusKey, value: s.status },
    { key: TicketPriorityKey, value: s.priority },
    { key: AssignedGroupKey, value: s.assignedGroupId ?? null },
    { key: AssignedUserKey, value: s.assignedUserId ?? null },
    { key: SlaBreachedKey, value: isBreached(s.sla) },
  ];
}

const stateOf = (s: TicketSnapshot): TicketState => ({
  id: s.id,
  ticketNumber: s.ticketNumber,
  status: s.status,
  priority: s.priority,
  assignedGroupId: s.assignedGroupId,
  assignedUserId: s.assignedUserId,
  version: s.version,
});

/** The ticket workflow of tickets created before ticketWorkflowV2 (and of their runs until they continue-as-new). */
export async function ticketWorkflow(input: TicketWorkflowInput): Promise<void> {
  await runTicket(input, { localCreate: false, maxMutationsPerRun: DEFAULT_MAX_MUTATIONS_PER_RUN });
}

/**
 * The ticket workflow every new ticket and every continued run starts: the same handlers and code,
 * with every patch of its time implied (no `patched()` markers: workflows/patches.ts) and the create
 * written in the first workflow task by a local activity.
 */
export async function ticketWorkflowV2(input: TicketWorkflowInput): Promise<void> {
  implyV2Patches();
  await runTicket(input, { localCreate: true, maxMutationsPerRun: V2_MAX_MUTATIONS_PER_RUN });
}

async function runTicket(input: TicketWorkflowInput, opts: { localCreate: boolean; maxMutationsPerRun: number }): Promise<void> {
  const ticket = new TicketEntity(input.carried);
  const maxMutations = input.maxMutationsPerRun ?? opts.maxMutationsPerRun;

  setHandler(createdUpdate, async () => {
    await condition(() => ticket.snapshot !== null || ticket.creationFailure !== null);
    if (ticket.creationFailure) throw refusedWrite(ticket.creationFailure);
    return stateOf(ticket.snapshot!);
  });
  setHandler(stateQuery, () => ticket.snapshot);
  setHandler(slaQuery, () =>
    ticket.snapshot?.sla ? { sla: ticket.snapshot.sla, timeline: ticket.timeline, timelineDropped: ticket.timelineDropped } : null,
  );

  // every mutation: its Update's validator and its handler run the same check (see workflows/mutations)
  const register = <R extends MutationRequestBase>({ update, kind }: TicketMutationEntry<R>) =>
    setHandler(
      update,
      (req: R) => {
        const other = kind.involves?.(req);
        return other === undefined ? ticket.mutate(req, kind) : ticket.involving(other, () => ticket.mutate(req, kind));
      },
      { validator: (req: R) => ticket.validate(req.requestId, (s) => kind.check(s, req, ticket.live())) },
    );
  // (each entry is typed where the table builds it; TypeScript cannot follow a union through the loop)
  for (const m of TICKET_MUTATIONS) register(m as TicketMutationEntry<MutationRequestBase>);

  if (input.create) {
    try {
      ticket.snapshot = await (opts.localCreate ? localCreate : records()).createTicketRecord(input.create);
    } catch (err) {
      // Only a permanent failure reaches here (the assigned group was deleted meanwhile, a title
      // the database cannot store): no row was written, so the workflow ends and the ticket never
      // existed. Before 'permanent-write-failures' only InvalidReference got here, typed as such.
      const failure = permanentWriteFailure(err);
      const message = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : String(err);
      ticket.creationFailure =
        failure && isPatched('permanent-write-failures')
          ? failure
          : ApplicationFailure.create({ type: TICKET_FAILURES.invalidReference, message, nonRetryable: true });
      await condition(() => false, '1 minute'); // let a waiting `created` caller see the failure
      return;
    }
    // warning levels and pause statuses the creation returned: only in runs past their patches
    const created = ticket.snapshot.sla ? { ...ticket.snapshot, sla: adoptable(ticket.snapshot.sla, isPatched) } : ticket.snapshot;
    ticket.setSnapshot(created);
    if (created.sla) ticket.recordTimeline(startTimeline(created.sla, created));
  }

  // Live until deleted, waking for each SLA signal at its instant; continue-as-new (after every
  // handler has finished) before history grows large. The clocks travel in the carried snapshot.
  const leaving = () => ticket.deleted || ticket.merged || workflowInfo().continueAsNewSuggested || ticket.mutationsThisRun >= maxMutations;
  for (;;) {
    const next = ticket.slaNext;
    if (next === null) {
      await condition(() => leaving() || ticket.slaNext !== null);
    } else if (next > Date.now()) {
      // re-armed whenever a change moves the instant (pause, resume, priority, assignment)
      const moved = () => leaving() || ticket.slaNext !== next;
      // the Web UI names what the timer waits for (histories from before the patch replay as they ran)
      if (isPatched('sla-timer-summary'))
        await condition(moved, Math.ceil(next - Date.now()), {
          summary: `SLA: next at-risk/breach signal due ${new Date(next).toISOString()}`,
        });
      else await condition(moved, Math.ceil(next - Date.now()));
    }
    if (leaving()) break;
    if (ticket.slaNext !== null && ticket.slaNext <= Date.now()) {
      try {
        await ticket.fireDueSignals();
      } catch (err) {
        // a signal's write refused for good: the ticket stays open to changes (each retries the
        // signal first); try again after the next change or in 5 minutes
        if (!permanentWriteFailure(err) || !isPatched('permanent-write-failures')) throw err;
        const seen = ticket.mutationsThisRun;
        await condition(() => leaving() || ticket.mutationsThisRun !== seen, '5 minutes');
      }
    }
  }
  if (!ticket.deleted && !ticket.merged) ticket.draining = true;
  await condition(allHandlersFinished);
  if (ticket.deleted || ticket.merged) return; // terminal: a merged ticket's clocks stopped with its merge
  // A continued run starts a fresh history: it continues as V2 (a V1 run too, since the patch;
  // histories from before it continued as V1 and replay so).
  const workflowType = isPatched(CONTINUE_AS_V2_PATCH) ? 'ticketWorkflowV2' : 'ticketWorkflow';
  await makeContinueAsNewFunc<typeof ticketWorkflowV2>({ workflowType })({
    carried: ticket.carry(),
    maxMutationsPerRun: input.maxMutationsPerRun,
  });
}
