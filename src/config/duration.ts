/** Durations written as `<number><unit>` with units ms, s, m, h, d (e.g. `5s`, `30m`, `5d`). */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parse one duration into milliseconds; throws with the offending text on bad input. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration (use e.g. 500ms, 5s, 30m, 2h, 5d)`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** Parse a comma-separated list of durations, e.g. `5s,5m,30m,2h`. */
export function parseDurationList(text: string): number[] {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  if (parts.length === 0) throw new Error('needs at least one duration');
  return parts.map(parseDuration);
}
