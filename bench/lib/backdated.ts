/**
 * A critical ticket started straight on its workflow (`ticketWorkflowV2`, no API) as if created
 * `targetSeconds` before `dueAt`: the create input's `requestedAt` is back-dated, so its SLA clock
 * runs from that instant and its assign deadline falls at `dueAt` (the SLA and recovery benches
 * put many deadlines in one window this way, without waiting for them).
 */
import type { Client } from '@temporalio/client';
import type { TicketCreateInput } from '../../workflows/definitions.js';
import { ticketWorkflowId } from '../../workflows/definitions.js';

export interface BackdatedTicket {
  id: string;
  title: string;
  userId: string;
  dueAt: number;
  targetSeconds: number;
  slaTerms: TicketCreateInput['slaTerms'];
  category?: string | null;
  tags?: string[];
}

export async function startBackdatedTicket(temporal: Client, taskQueue: string, t: BackdatedTicket): Promise<void> {
  const create: TicketCreateInput = {
    id: t.id,
    title: t.title,
    description: '',
    priority: 'critical',
    category: t.category ?? null,
    tags: t.tags ?? [],
    assignedGroupId: null,
    assignedUserId: null,
    createdVia: 'rest',
    actor: { type: 'user', userId: t.userId },
    requestedAt: new Date(t.dueAt - t.targetSeconds * 1000).toISOString(),
    slaTerms: t.slaTerms,
  };
  await temporal.workflow.start('ticketWorkflowV2', { workflowId: ticketWorkflowId(t.id), taskQueue, args: [{ create }] });
}
