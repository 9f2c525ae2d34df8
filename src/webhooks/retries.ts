/**
 * What an attempt's outcome means and when the next one is due. 2xx succeeds; 410 Gone disables the
 * endpoint; other 3xx and 4xx are final, except 408 and 429; 5xx and network errors are retried
 * on the schedule (± 10 % jitter), never sooner than a `Retry-After` asks.
 */
export type AttemptOutcome = 'succeeded' | 'retry' | 'final' | 'gone';

export function classify(status: number | null): AttemptOutcome {
  if (status === null) return 'retry'; // no response: timeout, refused, reset
  if (status >= 200 && status < 300) return 'succeeded';
  if (status === 410) return 'gone';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'final';
}

/** Seconds or an HTTP date → ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Delay before attempt `next` (1-based: attempt 1 is the first, due at schedule[0]); null when the
 * schedule is exhausted. `random` in [0, 1) (the workflow's deterministic Math.random).
 */
export function delayBefore(scheduleMs: readonly number[], next: number, retryAfterMs: number | null, random: number): number | null {
  const base = scheduleMs[next - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (0.9 + 0.2 * random));
  return Math.max(jittered, retryAfterMs ?? 0);
}
