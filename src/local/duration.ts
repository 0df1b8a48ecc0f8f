/** Units a duration flag accepts, in milliseconds. */
const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses a duration flag such as `500ms`, `1s`, `2m` or `1h` (a bare number is seconds).
 *
 * @throws RangeError for anything else, naming what was given.
 * @example
 * parseDuration('1s'); // 1000
 * parseDuration('2m'); // 120000
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) throw new RangeError(`not a duration: "${text}" (use e.g. 500ms, 1s, 2m)`);
  const value = Number(match[1]);
  const unit = (match[2] ?? 's') as keyof typeof unitMs;
  return Math.round(value * unitMs[unit]);
}

/** `60000` → `1m`, `1500` → `1.5s`, `500` → `500ms`: for messages. */
export function formatDurationMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
