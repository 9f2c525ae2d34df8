/**
 * One long-lived workflow per ticket (ID `ticket-<uuid>`). This walking skeleton writes the row
 * through an idempotent activity, answers the `created` update once it exists, keeps the search
 * attributes current and then lives on; mutations, SLA timers and continue-as-new build on it.
 */
import {
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  AssignedGroupKey,
  AssignedUserKey,
  createdUpdate,
  SlaBreachedKey,
  stateQuery,
  TicketNumberKey,
  TicketPriorityKey,
  TicketStatusKey,
  type TicketCreateInput,
  type TicketState,
} from './definitions.js';

const records = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // A database outage must not lose an accepted ticket: retry until it is back.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['InvalidReference'] },
});

/** The ticket as the workflow knows it; handlers delegate here. */
class TicketEntity {
  state: TicketState | null = null;
  failure: string | null = null;

  searchAttributes() {
    const s = this.state!;
    return [
      { key: TicketNumberKey, value: s.ticketNumber },
      { key: TicketStatusKey, value: s.status },
      { key: TicketPriorityKey, value: s.priority },
      { key: AssignedGroupKey, value: s.assignedGroupId },
      { key: AssignedUserKey, value: s.assignedUserId },
      { key: SlaBreachedKey, value: false },
    ].map(({ key, value }) => ({ key, value: value ?? null })) as Parameters<typeof upsertSearchAttributes>[0] & unknown[];
  }
}

export interface TicketWorkflowInput {
  create: TicketCreateInput;
}

export async function ticketWorkflow(input: TicketWorkflowInput): Promise<void> {
  const ticket = new TicketEntity();

  setHandler(createdUpdate, async () => {
    await condition(() => ticket.state !== null || ticket.failure !== null);
    if (ticket.failure) throw ApplicationFailure.create({ type: 'InvalidReference', message: ticket.failure, nonRetryable: true });
    return ticket.state!;
  });
  setHandler(stateQuery, () => ticket.state);

  try {
    ticket.state = await records.createTicketRecord(input.create);
  } catch (err) {
    // Only a permanent rejection reaches here (e.g. the assigned group was deleted meanwhile):
    // no row was written, so the workflow ends and the ticket never existed.
    ticket.failure = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : String(err);
    await condition(() => false, '1 minute'); // let a waiting `created` caller see the failure
    return;
  }
  upsertSearchAttributes(ticket.searchAttributes());

  // Lives until the ticket is deleted; later issues add the updates that change it.
  await condition(() => false);
}
