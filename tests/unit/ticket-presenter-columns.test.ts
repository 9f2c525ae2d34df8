/**
 * Lists read only `Ticket.presentedColumns` (src/commands/tickets/list.ts): a ticket built from those
 * columns alone must present exactly as the whole row does, so a presenter that starts reading
 * another column fails here instead of answering lists with a field missing.
 */
import { describe, expect, it } from 'vitest';
import { Ticket } from '../../src/models/index.js';
import { presentTicket, presentTicketBrief } from '../../src/presenters/ticket.js';
import { startSla, type SlaTerms } from '../../workflows/sla/clock.js';

const TERMS: SlaTerms = { assignTargetSeconds: 3_600, resolveTargetSeconds: 86_400, atRiskPercent: 80, calendar: null };
const created = Date.parse('2026-11-02T09:00:00.000Z');
const at = (minutes: number) => new Date(created + minutes * 60_000);
const link = { id: '7b0d2c52-52f5-4b39-9d55-0d7d1d7c1e11', ticketNumber: 'ASM-0007', at: at(30).toISOString() };

/** every column set, none null, so that reading any of them shows */
const row = Ticket.fromDatabaseJson({}) as Ticket;
Object.assign(row, {
  id: '3f5e1c1a-3c51-4c0e-8f43-1b1e4a2b9c01',
  ticketNumber: 'ASM-0042',
  title: 'Printer on floor 3 jams',
  description: 'Every large print job.',
  priority: 'high',
  status: 'under_investigation',
  category: 'hardware',
  tags: ['printer', 'floor-3'],
  assignedGroupId: '0a6a3b0e-6f1e-4a43-9d34-6f3c0b2d4e55',
  assignedUserId: '5c2f8d1e-2b7a-4c1e-9f0d-8a6b4c3d2e11',
  createdById: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
  createdVia: 'mcp',
  version: 7,
  firstAssignedAt: at(5),
  resolvedAt: at(50),
  pausedAt: at(40),
  totalPausedSeconds: 120,
  slaAssignTargetSeconds: 3_600,
  slaAssignDueAt: at(60),
  slaAssignAtRiskAt: at(48),
  slaAssignBreachedAt: at(61),
  slaAssignMetAt: at(5),
  slaResolveTargetSeconds: 86_400,
  slaResolveDueAt: at(1_440),
  slaResolveAtRiskAt: at(1_152),
  slaResolveBreachedAt: at(1_441),
  slaResolveMetAt: at(50),
  slaBreached: true,
  slaState: startSla(TERMS, created, true).sla,
  mergedInto: link,
  mergedFrom: [link],
  createdAt: at(0),
  updatedAt: at(50),
  deletedAt: at(55),
});

describe('the columns lists read', () => {
  it('are every column the presenter reads', () => {
    const listed = Ticket.fromDatabaseJson({}) as Ticket;
    for (const c of Ticket.presentedColumns) Object.assign(listed, { [c]: row[c] });
    const now = at(20);
    expect(presentTicket(listed, now)).toEqual(presentTicket(row, now));
    expect(presentTicketBrief(listed, now)).toEqual(presentTicketBrief(row, now));
    // the fixture is not vacuous: a column left out changes what is presented
    const withoutState = Ticket.fromDatabaseJson({}) as Ticket;
    for (const c of Ticket.presentedColumns.filter((c) => c !== 'slaState')) Object.assign(withoutState, { [c]: row[c] });
    expect(presentTicket(withoutState, now)).not.toEqual(presentTicket(row, now));
  });

  it('leave out the search vector and the SLA columns kept for filters', () => {
    const columns: readonly string[] = Ticket.presentedColumns;
    for (const c of ['searchVector', 'slaAssignDueAt', 'slaResolveBreachedAt', 'deletedAt']) expect(columns).not.toContain(c);
  });
});
