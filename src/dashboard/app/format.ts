/** Display helpers: instants in a time zone, relative times, durations. Pure but for `Date.now()` defaults. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        weekday: 'short',
        year: 'numeric',
        month: 'short',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      formatter = formatterFor('UTC');
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * `Sun 29 Mar 09:00:00` in the given zone (the year shown only when it is not this year's, in that
 * zone); `—` when absent.
 */
export function formatInstant(
  iso: string | null | undefined,
  timeZone = 'UTC',
  options: { weekday?: boolean; now?: number } = {},
): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const formatter = formatterFor(timeZone);
  const parts = (d: Date) => {
    const out: Record<string, string> = {};
    for (const part of formatter.formatToParts(d)) out[part.type] = part.value;
    return out;
  };
  const p = parts(date);
  const year = p.year === parts(new Date(options.now ?? Date.now())).year ? '' : ` ${p.year}`;
  const weekday = options.weekday === false ? '' : `${p.weekday} `;
  return `${weekday}${p.day} ${p.month}${year} ${p.hour}:${p.minute}:${p.second}`;
}

/** `in 3 min`, `12 s ago`, `now`. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const delta = new Date(iso).getTime() - now;
  if (Number.isNaN(delta)) return '';
  const abs = Math.abs(delta);
  if (abs < 1000) return 'now';
  const text = formatSpan(abs);
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** A coarse span: `12 s`, `3 min`, `2 h`, `4 d`. */
export function formatSpan(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

/** A precise duration: `850 ms`, `12.4 s`, `3 min 5 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return `${minutes} min ${seconds} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The browser's time zones (for the form's suggestions). */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return ['UTC', ...(intl.supportedValuesOf?.('timeZone') ?? []).filter((z) => z !== 'UTC')];
  } catch {
    return ['UTC'];
  }
}

/** Parses a JSON parameters object; returns the value or the reason it is refused. */
export function parseParameters(text: string): { value: Record<string, unknown> } | { error: string } {
  if (text.trim() === '') return { value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'Parameters must be a JSON object, like {"steps": 20}' };
  }
  return { value: value as Record<string, unknown> };
}
