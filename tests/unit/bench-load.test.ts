/** Benchmarks never abort on a 202, a 5xx or a failed call: load() counts them and reports them. */
import { describe, expect, it } from 'vitest';
import { load } from '../../bench/lib/harness.js';

describe('bench load()', () => {
  it('counts returned statuses and thrown calls, times every call, and finishes the run', async () => {
    const result = await load(20, 4, async (i) => {
      await new Promise((r) => setTimeout(r, 1));
      if (i % 5 === 0) throw new Error(`refused ${i}`);
      return i % 2 ? 202 : 201;
    });
    expect(result.n).toBe(20);
    expect(result.errors).toBe(4);
    expect(result.first_error).toMatch(/^refused \d+$/);
    expect(result.statuses).toEqual({ 201: 8, 202: 8 });
    expect(result.per_second).toBeGreaterThan(0);
  });

  it('reports neither statuses nor errors when calls return nothing and never throw', async () => {
    const result = await load(5, 2, async () => undefined);
    expect(result).not.toHaveProperty('statuses');
    expect(result).not.toHaveProperty('errors');
  });
});
