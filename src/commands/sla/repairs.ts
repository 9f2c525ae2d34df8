/**
 * Applying an edited SLA policy to the open tickets running on it (issue 21 item 5): an opt-in of
 * the edit starts a durable batch, the `sla-repair-<id>` workflow, which pages through the tickets
 * on the policy's key below the new version (from the read model, which every ticket version
 * keeps current) and sends each an `slaRetarget` Update. Progress lives in the `sla_repairs` row.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { notFound } from '../../errors/index.js';
import { authorize } from '../../policies/index.js';
import { actorOf } from '../../auth/principal.js';
import { slaRetargetUpdate, ticketWorkflowId, type Actor, type SlaRetargetRequest } from '../../../workflows/definitions.js';
import type { SlaTerms } from '../../../workflows/sla/clock.js';
import { isDraining } from '../tickets/outcome.js';
import { TICKET_PRIORITIES, type TicketPriority } from '../../../workflows/vocabulary.js';
import type { slaRepairWorkflow } from '../../../workflows/sla-repair.workflow.js';
import type { CommandContext } from '../context.js';
import { ruleTerms, type SlaRule } from './rules.js';
import { loadSlaTerms } from '../../store/sla-terms.js';

/** A row of sla_repairs. */
export interface SlaRepair {
  id: string;
  policyKey: string;
  policyVersion: number;
  status: 'running' | 'completed';
  total: number | null;
  done: number;
  skipped: number;
  failed: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** What a repair applies: the policy's key, its new version and its terms per priority. */
export interface SlaRepairTarget {
  policyKey: string;
  version: number;
  terms: Partial<Record<TicketPriority, SlaTerms>>;
}

export const slaRepairWorkflowId = (id: string) => `sla-repair-${id}`;

const repairs = (db: Knex) => db<SlaRepair>('sla_repairs');

/**
 * Records the repair and starts its workflow. If Temporal refuses the start the row goes again and
 * the error propagates (503): the policy edit itself stands; repeat it with apply_to_open.
 */
export async function slaRepairStarter(ctx: CommandContext, target: SlaRepairTarget): Promise<SlaRepair> {
  const id = randomUUID();
  const [row] = await repairs(ctx.db)
    .insert({ id, policyKey: target.policyKey, policyVersion: target.version, requestedBy: ctx.principal.user.id } as never)
    .returning('*');
  try {
    await ctx.temporal.workflow.start<typeof slaRepairWorkflow>('slaRepairWorkflow', {
      workflowId: slaRepairWorkflowId(id),
      taskQueue: ctx.config.temporal.taskQueue,
      staticSummary: `SLA repair: ${target.policyKey} → v${target.version}`,
      args: [{ repairId: id, ...target, actor: actorOf(ctx.principal) }],
    });
  } catch (err) {
    await repairs(ctx.db).where({ id }).delete();
    throw err;
  }
  return row as SlaRepair;
}

export async function slaRepairFinder(ctx: Pick<CommandContext, 'principal' | 'db'>, id: string): Promise<SlaRepair> {
  authorize(ctx.principal, 'slaPolicies.read');
  const row = await repairs(ctx.db).where({ id }).first();
  if (!row) throw notFound('SLA repair');
  return row;
}

/** Open tickets on `policyKey` below `version` (clocks from before conditional policies: their priority's default, version 0). */
function onOlderVersion(db: Knex, policyKey: string, version: number) {
  return db('tickets')
    .whereNull('deleted_at')
    .whereNot('status', 'resolved')
    .whereNotNull('sla_state')
    .whereRaw(`coalesce(sla_state->'policy'->>'key', 'default:' || priority::text) = ?`, [policyKey])
    .whereRaw(`coalesce((sla_state->'policy'->>'version')::int, 0) < ?`, [version]);
}

/** The batch's first step: how many tickets it will visit (the row says `running` meanwhile). */
export async function beginSlaRepair(db: Knex, repairId: string, policyKey: string, version: number): Promise<number> {
  const rows = (await onOlderVersion(db, policyKey, version).count({ count: '*' })) as { count: string }[];
  const total = Number(rows[0]?.count ?? 0);
  await repairs(db)
    .where({ id: repairId })
    .update({ total, updatedAt: new Date() } as never);
  return total;
}

/** The next page of ticket ids after `afterId` (keyset by id: retargeted tickets leave the set, failed ones are passed). */
export async function slaRepairPage(
  db: Knex,
  policyKey: string,
  version: number,
  afterId: string | null,
  limit: number,
): Promise<string[]> {
  const q = onOlderVersion(db, policyKey, version).select('id').orderBy('id').limit(limit);
  if (afterId) q.where('id', '>', afterId);
  return (await q).map((r: { id: string }) => r.id);
}

export interface SlaRepairProgress {
  done: number;
  skipped: number;
  failed: number;
}

/** Absolute figures, so a retried write writes the same thing. */
export async function recordSlaRepairProgress(db: Knex, repairId: string, p: SlaRepairProgress, finished: boolean): Promise<void> {
  const now = new Date();
  await repairs(db)
    .where({ id: repairId })
    .update({ ...p, updatedAt: now, ...(finished && { status: 'completed', finishedAt: now }) } as never);
}

/**
 * Sends one ticket the repair's Update and waits for its answer: `applied`, or `skipped` when the
 * ticket ignored it (another policy, already on the version, resolved), was deleted or is gone.
 */
export async function retargetTicketSla(
  temporal: Client,
  repair: SlaRepairTarget & { repairId: string; actor: Actor },
  ticketId: string,
): Promise<'applied' | 'skipped'> {
  const request: SlaRetargetRequest = {
    requestId: `sla-repair-${repair.repairId}`,
    actor: repair.actor,
    policyKey: repair.policyKey,
    version: repair.version,
    terms: repair.terms,
  };
  try {
    const result = await temporal.workflow
      .getHandle(ticketWorkflowId(ticketId))
      .executeUpdate(slaRetargetUpdate, { args: [request], updateId: request.requestId });
    return result.changed ? 'applied' : 'skipped';
  } catch (err) {
    // a run about to continue-as-new takes it on its next run: the activity retries
    if (err instanceof WorkflowUpdateFailedError && isDraining(err)) throw err;
    // a closed workflow (deleted ticket) or a rejection (deleted meanwhile) leaves nothing to repair
    if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) return 'skipped';
    throw err;
  }
}

/** After PUT /sla-policies/{priority}?apply_to_open=true: the default policy's new version to its open tickets. */
export async function defaultPolicyRepairStarter(ctx: CommandContext, priority: TicketPriority): Promise<SlaRepair> {
  authorize(ctx.principal, 'slaPolicies.manage');
  const terms = await loadSlaTerms(ctx.db, priority);
  if (!terms?.policy) throw notFound('SLA policy');
  return slaRepairStarter(ctx, { policyKey: terms.policy.key, version: terms.policy.version, terms: { [priority]: terms } });
}

/** After PUT /sla-rules/{id}?apply_to_open=true: the rule's new version to its open tickets, each under its priority's targets. */
export async function rulePolicyRepairStarter(ctx: CommandContext, rule: SlaRule): Promise<SlaRepair> {
  authorize(ctx.principal, 'slaPolicies.manage');
  const terms: Partial<Record<TicketPriority, SlaTerms>> = {};
  for (const p of TICKET_PRIORITIES) if (rule.targets[p]) terms[p] = await ruleTerms(ctx.db, rule, p);
  return slaRepairStarter(ctx, { policyKey: rule.id, version: rule.version, terms });
}
