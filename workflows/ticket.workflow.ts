/**
 * One long-lived workflow per ticket (ID `ticket-<uuid>`). It holds the ticket's state, accepts
 * every mutation as an Update (validated synchronously before it reaches history), persists each
 * through one idempotent activity keyed by the new version, keeps the search attributes current,
 * and continues-as-new before its history grows large, carrying its state and recent results.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
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
  addNoteUpdate,
  AssignedGroupKey,
  attachmentsUpdate,
  AssignedUserKey,
  changeUpdate,
  createdUpdate,
  deleteUpdate,
  editNoteUpdate,
  SlaBreachedKey,
  slaQuery,
  stateQuery,
  TicketNumberKey,
  TicketPriorityKey,
  TicketStatusKey,
  type AttachmentsRequest,
  type ChangeRequest,
  type DeleteRequest,
  type MutationResult,
  type NoteRequest,
  type TicketCreateInput,
  type TicketState,
  type Actor,
} from './definitions.js';
import { applyChange, rejectChange, type Rejection, type TicketSnapshot } from './ticket-state.js';
import { PERMANENT_WRITE_FAILURES, TICKET_FAILURES } from './vocabulary.js';
import {
  dueSignals,
  fireSignal,
  isBreached,
  nextSlaInstant,
  SLA_METRICS,
  startSla,
  type SlaTimelineEntry,
  type TicketSla,
} from './sla/clock.js';

// A database outage must not lose an accepted change: retry, backing off to 30 s, until it is back.
const WRITE_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: [TICKET_FAILURES.invalidReference],
};

const remoteRecords = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: WRITE_RETRY });
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
 * Workflow versioning, in order: runs from before 'local-activity-writes' used regular
 * activities; runs between it and 'regular-activity-writes' used local ones (their histories must
 * replay as such); runs since use regular ones again. Deprecate both once no older run is open.
 */
const records = (): typeof remoteRecords => {
  if (!patched('local-activity-writes')) return remoteRecords;
  return patched('regular-activity-writes') ? remoteRecords : localRecords;
};

type Mutation = Parameters<Activities['persistTicketMutation']>[0];

/** Write `next` (by default `s` one version on) with what the change records: one activity per version. */
async function writeVersion(
  s: TicketSnapshot,
  actor: Actor,
  record: Pick<Mutation, 'audit' | 'events' | 'note' | 'attachments' | 'updateId' | 'requestId'>,
  next: TicketSnapshot = { ...s, version: s.version + 1 },
  at: string = new Date().toISOString(),
): Promise<TicketSnapshot> {
  await records().persistTicketMutation({ ticketId: s.id, version: next.version, at, actor, ticket: next, ...record });
  return next;
}

/** How many recent mutation results survive continue-as-new (for retried requests). */
const RECENT_RESULTS = 200;
/** Continue-as-new after this many mutations even if the server has not suggested it yet. */
const DEFAULT_MAX_MUTATIONS_PER_RUN = 1_000;
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

function reject(r: Rejection | { type: typeof TICKET_FAILURES.ticketNotReady; message: string; details: Record<string, unknown> }): never {
  throw ApplicationFailure.create({ type: r.type, message: r.message, details: [r.details], nonRetryable: true });
}

/** The write's failure when the activity failed for good (bad data, a version gap; see activities/write-failures.ts). */
function permanentWriteFailure(err: unknown): ApplicationFailure | null {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && PERMANENT_WRITE_FAILURES.includes(cause.type ?? '') ? cause : null;
}

/** Which Update and API request a write comes from (named in the log line of a failed write). */
const origin = (req: { requestId: string; apiRequestId?: string }) => ({ updateId: req.requestId, requestId: req.apiRequestId });

/** The answer for a change whose write failed for good: the same type and details, non-retryable. */
const refusedWrite = (f: ApplicationFailure) =>
  ApplicationFailure.create({ type: f.type ?? undefined, message: f.message, details: f.details ?? undefined, nonRetryable: true });

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
  /** when the next SLA signal is due (epoch ms), or null when no clock runs */
  slaNext: number | null = null;
  timeline: SlaTimelineEntry[];
  timelineDropped: number;
  private readonly serial = new Serial();
  private readonly recent: Map<string, MutationResult>;

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
    if (!patched('upsert-changed-attributes')) {
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

  /** The synchronous validator shared by every mutation. */
  validate(requestId: string, check: (s: TicketSnapshot) => Rejection | null): void {
    if (this.recent.has(requestId)) return; // a retry: answered from memory
    if (!this.snapshot)
      reject({ type: TICKET_FAILURES.ticketNotReady, message: 'The ticket is still being created; retry shortly.', details: {} });
    const rejection = check(this.snapshot);
    if (rejection) reject(rejection);
  }

  /**
   * Serialise, re-check against the state the mutation will really see, apply, remember. SLA
   * signals already due are recorded first, so a change never overtakes a deadline that passed
   * (e.g. a resolve arriving with the timer of a deadline that fell while no worker ran).
   */
  mutate(
    requestId: string,
    check: (s: TicketSnapshot) => Rejection | null,
    apply: (s: TicketSnapshot) => Promise<TicketSnapshot | null>,
  ): Promise<MutationResult> {
    return this.serial.run(async () => {
      const prior = this.recent.get(requestId);
      if (prior) return prior;
      this.validate(requestId, check);
      let next: TicketSnapshot | null;
      try {
        await this.recordDueSignals();
        next = await apply(this.snapshot!);
      } catch (err) {
        // A write no retry can fix: the ticket keeps its state and takes the next change; the
        // caller gets the reason. Before this patch such a write was retried for ever.
        const failure = permanentWriteFailure(err);
        if (failure && patched('permanent-write-failures')) throw refusedWrite(failure);
        throw err;
      }
      const result = next ? { version: next.version, changed: true } : { version: this.snapshot!.version, changed: false };
      if (next) {
        this.setSnapshot(next);
        this.mutationsThisRun++;
      }
      this.recent.set(requestId, result);
      if (this.recent.size > RECENT_RESULTS) this.recent.delete(this.recent.keys().next().value!);
      return result;
    });
  }

  /** Fire the SLA signals due now, in the serial order of mutations. */
  fireDueSignals(): Promise<void> {
    return this.serial.run(() => this.recordDueSignals());
  }

  /**
   * Each due signal becomes a version of its own per metric: the row's breach columns, an audit
   * entry and an event, written once (the version is the idempotency key). Exactly once follows:
   * the fired instant is part of the state that every later run and replay starts from.
   */
  private async recordDueSignals(): Promise<void> {
    for (const metric of SLA_METRICS) {
      const s = this.snapshot;
      if (!s?.sla || s.deleted) return;
      const now = Date.now();
      const due = dueSignals(s.sla, now).filter((d) => d.metric === metric);
      if (due.length === 0) continue;
      let sla: TicketSla = s.sla;
      const timeline: SlaTimelineEntry[] = [];
      for (const signal of due) {
        const step = fireSignal(sla, signal, now);
        sla = step.sla;
        timeline.push(...step.timeline);
      }
      const cycle = sla[metric].cycle;
      const next = await writeVersion(
        s,
        SYSTEM,
        {
          audit: due.map((d) => ({
            action: `sla_${d.signal}`,
            field: `sla.${metric}`,
            old: null,
            new: { due_at: new Date(d.at).toISOString(), cycle },
          })),
          events: due.map((d) => ({
            type: `ticket.sla_${d.signal}`,
            changes: {},
            data: {
              sla: { metric, signal: d.signal, due_at: new Date(d.at).toISOString(), cycle, target_seconds: sla[metric].targetSeconds },
            },
          })),
        },
        { ...s, version: s.version + 1, sla },
        new Date(now).toISOString(),
      );
      this.setSnapshot(next);
      this.recordTimeline(timeline);
    }
  }

  carry(): CarriedState {
    return { snapshot: this.snapshot!, recent: [...this.recent], timeline: this.timeline, timelineDropped: this.timelineDropped };
  }
}

/** The timeline's first lines, rebuilt from the clocks the creation activity started. */
function startTimeline(sla: TicketSla, s: TicketSnapshot): SlaTimelineEntry[] {
  const terms = {
    assignTargetSeconds: sla.assign.targetSeconds,
    resolveTargetSeconds: sla.resolve.targetSeconds,
    atRiskPercent: sla.atRiskPercent,
    calendar: sla.calendar,
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

export async function ticketWorkflow(input: TicketWorkflowInput): Promise<void> {
  const ticket = new TicketEntity(input.carried);
  const maxMutations = input.maxMutationsPerRun ?? DEFAULT_MAX_MUTATIONS_PER_RUN;

  setHandler(createdUpdate, async () => {
    await condition(() => ticket.snapshot !== null || ticket.creationFailure !== null);
    if (ticket.creationFailure) throw refusedWrite(ticket.creationFailure);
    return stateOf(ticket.snapshot!);
  });
  setHandler(stateQuery, () => ticket.snapshot);
  setHandler(slaQuery, () =>
    ticket.snapshot?.sla ? { sla: ticket.snapshot.sla, timeline: ticket.timeline, timelineDropped: ticket.timelineDropped } : null,
  );

  setHandler(
    changeUpdate,
    (req: ChangeRequest) =>
      ticket.mutate(
        req.requestId,
        (s) => rejectChange(s, req.changes, req.expectedVersion),
        async (s) => {
          const at = new Date().toISOString();
          // a new priority brings its policy's SLA terms (read now: policy edits apply from here on)
          const priorityChanges = req.changes.priority !== undefined && req.changes.priority !== s.priority;
          const terms = s.sla && priorityChanges ? ((await records().loadSlaTerms(req.changes.priority!)) ?? undefined) : undefined;
          // a resolved ticket's new priority also sets the terms its reopen runs under (older histories: not)
          const retargetMetResolve = terms !== undefined && s.sla?.resolve.phase === 'met' && patched('sla-reopen-current-terms');
          const applied = applyChange(s, req.changes, at, terms, retargetMetResolve);
          if (applied.fields.length === 0) return null;
          const changes = Object.fromEntries(applied.fields.map((f) => [f.field, { old: f.old, new: f.new }]));
          const next = await writeVersion(
            s,
            req.actor,
            {
              ...origin(req),
              audit: applied.fields.map((f) => ({ action: 'updated', field: f.field, old: f.old, new: f.new })),
              events: applied.events.map((type) => ({ type, changes })),
            },
            applied.next,
            at,
          );
          ticket.recordTimeline(applied.slaTimeline); // only once written: a refused write changes nothing
          return next;
        },
      ),
    { validator: (req: ChangeRequest) => ticket.validate(req.requestId, (s) => rejectChange(s, req.changes, req.expectedVersion)) },
  );

  const noteHandler = (op: 'add' | 'edit') => (req: NoteRequest) =>
    ticket.mutate(
      req.requestId,
      (s) => rejectChange(s, {}, null),
      async (s) =>
        writeVersion(s, req.actor, {
          ...origin(req),
          note: { op, id: req.noteId, content: req.content, isInternal: req.isInternal },
          audit: [
            op === 'add'
              ? { action: 'note_added', field: null, old: null, new: { note_id: req.noteId, is_internal: req.isInternal } }
              : {
                  action: 'note_edited',
                  field: null,
                  old: { note_id: req.noteId, content: req.previousContent ?? null },
                  new: { note_id: req.noteId, content: req.content },
                },
          ],
          events: [
            {
              type: op === 'add' ? 'ticket.note_added' : 'ticket.updated',
              changes: op === 'add' ? {} : { note: { old: req.previousContent ?? null, new: req.content } },
            },
          ],
        }),
    );
  for (const [def, op] of [
    [addNoteUpdate, 'add'],
    [editNoteUpdate, 'edit'],
  ] as const) {
    setHandler(def, noteHandler(op), { validator: (req: NoteRequest) => ticket.validate(req.requestId, (s) => rejectChange(s, {}, null)) });
  }

  setHandler(
    attachmentsUpdate,
    (req: AttachmentsRequest) =>
      ticket.mutate(
        req.requestId,
        (s) => rejectChange(s, {}, null),
        async (s) => {
          const summary = req.attachments.map((a) => ({
            id: a.id,
            filename: a.originalFilename,
            content_type: a.contentType,
            size_bytes: a.sizeBytes,
            sha256: a.sha256,
            note_id: a.noteId,
          }));
          return writeVersion(s, req.actor, {
            ...origin(req),
            attachments: { op: req.op, items: req.attachments },
            audit: summary.map((a) =>
              req.op === 'add'
                ? { action: 'file_uploaded', field: `attachment:${a.id}`, old: null, new: a }
                : { action: 'file_deleted', field: `attachment:${a.id}`, old: a, new: null },
            ),
            events: [
              req.op === 'add'
                ? { type: 'ticket.attachment_added', changes: {}, data: { attachments: summary } }
                : { type: 'ticket.updated', changes: { attachments: { old: summary, new: null } } },
            ],
          });
        },
      ),
    { validator: (req: AttachmentsRequest) => ticket.validate(req.requestId, (s) => rejectChange(s, {}, null)) },
  );

  setHandler(
    deleteUpdate,
    (req: DeleteRequest) =>
      ticket.mutate(
        req.requestId,
        (s) => rejectChange(s, {}, req.expectedVersion),
        async (s) =>
          writeVersion(
            s,
            req.actor,
            {
              ...origin(req),
              audit: [{ action: 'deleted', field: null, old: null, new: null }],
              events: [{ type: 'ticket.deleted', changes: {} }],
            },
            { ...s, version: s.version + 1, deleted: true },
          ),
      ),
    { validator: (req: DeleteRequest) => ticket.validate(req.requestId, (s) => rejectChange(s, {}, req.expectedVersion)) },
  );

  if (input.create) {
    try {
      ticket.snapshot = await records().createTicketRecord(input.create);
    } catch (err) {
      // Only a permanent failure reaches here (the assigned group was deleted meanwhile, a title
      // the database cannot store): no row was written, so the workflow ends and the ticket never
      // existed. Before 'permanent-write-failures' only InvalidReference got here, typed as such.
      const failure = permanentWriteFailure(err);
      const message = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : String(err);
      ticket.creationFailure =
        failure && patched('permanent-write-failures')
          ? failure
          : ApplicationFailure.create({ type: TICKET_FAILURES.invalidReference, message, nonRetryable: true });
      await condition(() => false, '1 minute'); // let a waiting `created` caller see the failure
      return;
    }
    const created = ticket.snapshot;
    ticket.setSnapshot(created);
    if (created.sla) ticket.recordTimeline(startTimeline(created.sla, created));
  }

  // Live until deleted, waking for each SLA signal at its instant; continue-as-new (after every
  // handler has finished) before history grows large. The clocks travel in the carried snapshot.
  const leaving = () => ticket.deleted || workflowInfo().continueAsNewSuggested || ticket.mutationsThisRun >= maxMutations;
  for (;;) {
    const next = ticket.slaNext;
    if (next === null) {
      await condition(() => leaving() || ticket.slaNext !== null);
    } else if (next > Date.now()) {
      // re-armed whenever a change moves the instant (pause, resume, priority, assignment)
      const moved = () => leaving() || ticket.slaNext !== next;
      // the Web UI names what the timer waits for (histories from before the patch replay as they ran)
      if (patched('sla-timer-summary'))
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
        if (!permanentWriteFailure(err) || !patched('permanent-write-failures')) throw err;
        const seen = ticket.mutationsThisRun;
        await condition(() => leaving() || ticket.mutationsThisRun !== seen, '5 minutes');
      }
    }
  }
  await condition(allHandlersFinished);
  if (ticket.deleted) return;
  await continueAsNew<typeof ticketWorkflow>({ carried: ticket.carry(), maxMutationsPerRun: input.maxMutationsPerRun });
}
