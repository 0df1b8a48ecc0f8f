/** Plain-text output of the `tickwork` CLI: aligned tables, durations and a progress bar. */
import type { RunView } from '../api/schemas.js';

/** Left-aligned columns separated by two spaces; `null`/`undefined` print as `-`. */
export function table(headers: string[], rows: unknown[][]): string {
  const text = rows.map((row) =>
    row.map((v) => (v === null || v === undefined || v === '' ? '-' : String(v))),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...text.map(line)].join('\n');
}

/** `key: value` lines, keys aligned. */
export function fields(pairs: [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs
    .map(
      ([k, v]) =>
        `${`${k}:`.padEnd(width + 1)} ${v === null || v === undefined || v === '' ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    )
    .join('\n');
}

/** `1.2 s`, `3 min 4 s`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** `[########............]  40%  message` */
export function progressBar(
  progress: Pick<NonNullable<RunView['progress']>, 'percent' | 'message'> | null,
  status: string,
  width = 24,
): string {
  const percent = progress?.percent ?? null;
  const filled = percent === null ? 0 : Math.round((percent / 100) * width);
  const bar = percent === null ? '?'.repeat(width) : `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const pct = percent === null ? '  ?%' : `${String(Math.round(percent)).padStart(3)}%`;
  const message = progress?.message ? `  ${progress.message}` : '';
  return `[${bar}] ${pct}  ${status}${message}`;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** `Mon 2026-11-30 09:00 +01:00` (seconds only when not zero): an instant's wall time in a zone. */
export function zonedTime(at: Date, timeZone: string): string {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    zoneFormats.set(timeZone, format);
  }
  const part = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const offset = (part.timeZoneName ?? 'GMT').replace(/^GMT/, '') || '+00:00';
  const seconds = part.second === '00' ? '' : `:${part.second}`;
  return `${part.weekday} ${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}${seconds} ${offset}`;
}
