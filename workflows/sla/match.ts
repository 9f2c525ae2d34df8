/**
 * Which SLA rule a ticket runs under: pure, so the API (at create and on every change of a matched
 * field) and the unit tests share it. Rules are tried by position; the first whose conditions all
 * hold *and* which has targets for the ticket's priority wins. No winner: the default policy (the
 * priority's row of sla_policies).
 */
import type { TicketPriority } from '../vocabulary.js';

/** Every listed condition must hold (AND); within one list any value matches (OR). Absent = any. */
export interface SlaRuleConditions {
  groups?: string[];
  /** compared without regard to case */
  categories?: string[];
  /** the ticket has at least one of these tags (without regard to case) */
  tags_any?: string[];
  priorities?: TicketPriority[];
}

export interface SlaRuleTargets {
  assign_target_seconds: number;
  resolve_target_seconds: number;
}

export interface MatchableRule {
  position: number;
  conditions: SlaRuleConditions;
  /** per priority; a priority without targets falls through to the next rule */
  targets: Partial<Record<TicketPriority, SlaRuleTargets>>;
}

/** The ticket fields a rule may look at. */
export interface SlaMatchInput {
  priority: TicketPriority;
  groupId: string | null;
  category: string | null;
  tags: string[];
}

const lower = (xs: string[]) => xs.map((x) => x.toLowerCase());

/** Whether every condition of `c` holds for `t` (an empty condition set holds for every ticket). */
export function conditionsHold(c: SlaRuleConditions, t: SlaMatchInput): boolean {
  if (c.groups && !(t.groupId !== null && c.groups.includes(t.groupId))) return false;
  if (c.categories && !(t.category !== null && lower(c.categories).includes(t.category.toLowerCase()))) return false;
  if (c.tags_any) {
    const wanted = new Set(lower(c.tags_any));
    if (!t.tags.some((tag) => wanted.has(tag.toLowerCase()))) return false;
  }
  if (c.priorities && !c.priorities.includes(t.priority)) return false;
  return true;
}

/** The first rule by position that applies to `t`, or null (the default policy). */
export function matchSlaRule<R extends MatchableRule>(rules: readonly R[], t: SlaMatchInput): R | null {
  const ordered = [...rules].sort((a, b) => a.position - b.position);
  return ordered.find((r) => r.targets[t.priority] !== undefined && conditionsHold(r.conditions, t)) ?? null;
}

/** Whether a change of these fields can move a ticket to another policy. */
export function matchFieldsDiffer(a: SlaMatchInput, b: SlaMatchInput): boolean {
  return (
    a.priority !== b.priority || a.groupId !== b.groupId || a.category !== b.category || JSON.stringify(a.tags) !== JSON.stringify(b.tags)
  );
}
