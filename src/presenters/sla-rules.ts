/** SLA rules and SLA repairs → JSON. */
import type { SlaRule } from '../commands/sla/rules.js';
import type { SlaRepair } from '../commands/sla/repairs.js';
import { effectivePauseStatuses, effectiveWarningLevels } from '../commands/sla/levels.js';

export function presentSlaRule(r: SlaRule, repair?: SlaRepair) {
  return {
    id: r.id,
    name: r.name,
    position: r.position,
    conditions: r.conditions,
    targets: r.targets,
    at_risk_percent: r.atRiskPercent,
    calendar_id: r.calendarId,
    warning_levels: effectiveWarningLevels(r),
    pause_statuses: effectivePauseStatuses(r),
    version: r.version,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    ...(repair && { sla_repair_id: repair.id }),
  };
}

export function presentSlaRepair(r: SlaRepair) {
  return {
    id: r.id,
    policy_key: r.policyKey,
    policy_version: r.policyVersion,
    status: r.status,
    total: r.total,
    done: r.done,
    skipped: r.skipped,
    failed: r.failed,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    finished_at: r.finishedAt ? r.finishedAt.toISOString() : null,
  };
}
