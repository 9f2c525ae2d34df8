import { describe, expect, it } from 'vitest';
import { PRIORITY_RANK } from '../../src/commands/tickets/list.js';
import {
  EVENT_TYPES,
  PERMANENT_WRITE_FAILURES,
  TICKET_EVENT_TYPES,
  TICKET_FAILURES,
  TICKET_NUMBER_PATTERN,
  TICKET_PRIORITIES,
  TICKET_REF_PATTERN,
  UUID_PATTERN,
} from '../../workflows/vocabulary.js';

describe('the vocabulary', () => {
  it('takes a ticket UUID or number in any case, and nothing else', () => {
    for (const ref of ['0f8fad5b-d9cb-469f-a165-70867728950e', '0F8FAD5B-D9CB-469F-A165-70867728950E', 'ASM-0001', 'asm-12345', 'Asm-0042'])
      expect(TICKET_REF_PATTERN.test(ref), ref).toBe(true);
    for (const ref of ['ASM-001', 'ASM-', 'XYZ-0001', ' ASM-0001', 'ASM-0001 ', '-'.repeat(36), '0f8fad5b-d9cb-469f-a165-70867728950', ''])
      expect(TICKET_REF_PATTERN.test(ref), ref).toBe(false);
    expect(TICKET_NUMBER_PATTERN.test('asm-0007')).toBe(true);
    expect(TICKET_NUMBER_PATTERN.test('0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(false);
  });

  it('composes the reference from the UUID and number patterns; its OpenAPI pattern reads as before', () => {
    expect(TICKET_REF_PATTERN.source).toBe(
      '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[Aa][Ss][Mm]-\\d{4,})$',
    );
    expect(UUID_PATTERN.test('0F8FAD5B-d9cb-469f-a165-70867728950e')).toBe(true);
    for (const id of ['0f8fad5b-d9cb-469f-a165-70867728950', 'x0f8fad5b-d9cb-469f-a165-70867728950e', 'ASM-0001'])
      expect(UUID_PATTERN.test(id), id).toBe(false);
  });

  it('ranks priorities in SQL in the order it lists them (the urgency index holds that expression)', () => {
    const ranks = TICKET_PRIORITIES.map((p) => {
      const when = new RegExp(`WHEN '${p}' THEN (\\d+)`).exec(PRIORITY_RANK);
      return when ? Number(when[1]) : Number(/ELSE (\d+)/.exec(PRIORITY_RANK)![1]);
    });
    expect(ranks).toEqual(TICKET_PRIORITIES.map((_, i) => i));
  });

  it('lists every ticket event among the stored event types, each once', () => {
    expect(EVENT_TYPES.slice(0, TICKET_EVENT_TYPES.length)).toEqual([...TICKET_EVENT_TYPES]);
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
  });

  it('keeps the failure types recorded in histories, each distinct', () => {
    expect(PERMANENT_WRITE_FAILURES).toEqual(['InvalidReference', 'UnwritableChange']);
    const types = Object.values(TICKET_FAILURES);
    expect(new Set(types).size).toBe(types.length);
  });
});
