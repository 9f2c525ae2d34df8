/**
 * ticketCreator: checks the request, then starts the ticket's workflow with an Update-with-Start
 * whose `created` update returns once the row is written. If the workers do not answer in time the
 * start is still durable: the caller gets `accepted` and the row appears when a worker runs, under
 * the SLA terms read here (the policy in force when the request was accepted).
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { actorOf } from '../../auth/principal.js';
import { forbidden, validationFailed, type InputProblem } from '../../errors/index.js';
import { Group, GroupMembership, Ticket, User } from '../../models/index.js';
import { canWriteTickets } from '../../policies/tickets.js';
import { TicketPriorityKey, TicketStatusKey, createdUpdate, ticketWorkflowId } from '../../../workflows/definitions.js';
import type { ticketWorkflowV2 } from '../../../workflows/ticket.workflow.js';
import { CONFIRM_WAIT_MS, type CommandContext } from '../context.js';
import { matchSlaTerms } from '../sla/rules.js';
import type { TicketCreateRequest } from './inputs.js';
import { ticketWorkflowError } from './outcome.js';

export type TicketCreateResult = { status: 'created'; ticket: Ticket } | { status: 'accepted'; id: string };

export async function ticketCreator(
  ctx: CommandContext,
  req: TicketCreateRequest,
  opts: { ticketId?: string } = {},
): Promise<TicketCreateResult> {
  if (!canWriteTickets(ctx.principal)) throw forbidden('This API key may not create tickets (needs tickets:write).');
  await checkAssignment(ctx, req.assigned_group_id, req.assigned_user_id);

  const id = opts.ticketId ?? randomUUID();
  // the SLA terms in force now (first matching SLA rule, else the priority's policy): a create that
  // waits for a worker still runs under them
  const slaTerms = await matchSlaTerms(ctx.db, {
    priority: req.priority,
    groupId: req.assigned_group_id,
    category: req.category,
    tags: req.tags,
  });
  // ticketWorkflowV2: the row is written in the workflow's first task (see workflows/ticket.workflow.ts)
  const startOperation = new WithStartWorkflowOperation<typeof ticketWorkflowV2>('ticketWorkflowV2', {
    workflowId: ticketWorkflowId(id),
    taskQueue: ctx.config.temporal.taskQueue,
    // a retry with the same id (Idempotency-Key) joins the existing workflow instead of failing
    workflowIdConflictPolicy: 'USE_EXISTING',
    // who it is, in the Temporal Web UI (the number is assigned by the workflow's first write and
    // shows as the TicketNumber search attribute)
    staticSummary: `${req.priority} · ${req.title}`,
    staticDetails: `**Ticket ${id}**\n\n- priority: ${req.priority}\n- title: ${req.title}\n- created via: ${ctx.via}`,
    args: [
      {
        create: {
          id,
          title: req.title,
          description: req.description,
          priority: req.priority,
          category: req.category,
          tags: req.tags,
          assignedGroupId: req.assigned_group_id,
          assignedUserId: req.assigned_user_id,
          createdVia: ctx.via,
          actor: actorOf(ctx.principal),
          requestedAt: new Date().toISOString(),
          slaTerms,
          requestId: ctx.requestId,
        },
      },
    ],
    typedSearchAttributes: [
      { key: TicketStatusKey, value: 'open' },
      { key: TicketPriorityKey, value: req.priority },
    ],
  });
  try {
    await ctx.temporal.withDeadline(Date.now() + (ctx.confirmWaitMs ?? CONFIRM_WAIT_MS), () =>
      // one Update id per ticket: a retried create (same Idempotency-Key, so the same id) joins the
      // Update in flight instead of adding one while the first task writes the row
      ctx.temporal.workflow.executeUpdateWithStart(createdUpdate, { startWorkflowOperation: startOperation, updateId: `created-${id}` }),
    );
  } catch (err) {
    // The wait for the update ran out. If the server recorded the start, the ticket will be
    // written when a worker runs; ask it (the call's own handle is rejected with the timeout).
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && (await workflowExists(ctx, id))) {
      return { status: 'accepted', id };
    }
    throw ticketWorkflowError(err); // a vanished reference, data the database refuses… (outcome.ts)
  }
  const ticket = await Ticket.query(ctx.db).findById(id).throwIfNotFound();
  return { status: 'created', ticket };
}

async function workflowExists(ctx: CommandContext, id: string): Promise<boolean> {
  try {
    await ctx.temporal.workflow.getHandle(ticketWorkflowId(id)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    // unknown (e.g. Temporal unreachable): answered as not started, which the caller reports as a failure
    ctx.log.warn({ err, ticketId: id }, 'could not learn whether an unconfirmed create started');
    return false;
  }
}

/** The group and user must exist, the user be active, and (when both are given) a member of the group. */
export async function checkAssignment(ctx: CommandContext, groupId: string | null, userId: string | null): Promise<void> {
  const problems: InputProblem[] = [];
  if (groupId && !(await Group.query(ctx.db).findById(groupId))) {
    problems.push({ in: 'body', path: 'assigned_group_id', message: 'No group has this id.', lookup: 'groups' });
  }
  if (userId) {
    const user = await User.query(ctx.db).findById(userId);
    if (!user || !user.isActive) {
      problems.push({ in: 'body', path: 'assigned_user_id', message: 'No active user has this id.', lookup: 'users' });
    } else if (groupId && !(await GroupMembership.query(ctx.db).findOne({ groupId, userId }))) {
      problems.push({ in: 'body', path: 'assigned_user_id', message: 'The user is not a member of the assigned group.' });
    }
  }
  if (problems.length) throw validationFailed(problems);
}
