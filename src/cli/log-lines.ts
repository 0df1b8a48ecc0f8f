/**
 * Which log lines of a run a person reads: the task's own, not the platform's. Lambda writes
 * `START RequestId…`, `END RequestId…` and `REPORT RequestId…` around each invocation, and
 * Powertools writes metrics as one JSON object (an `_aws` key holding `CloudWatchMetrics`, the
 * embedded metric format). `tickwork logs` hides both unless `--all`, which folds a metrics blob
 * to one line.
 */

/** What a log line is: the task's own, Lambda's bookkeeping, or a metrics blob. */
export type LogLineKind = 'task' | 'platform' | 'metrics';

const PLATFORM = /^(?:(?:START|END|REPORT) RequestId:|INIT_START |INIT_REPORT )/;

interface MetricsBlob {
  _aws: { CloudWatchMetrics: { Metrics?: { Name?: unknown; Unit?: unknown }[] }[] };
  [key: string]: unknown;
}

function metricsBlob(message: string): MetricsBlob | undefined {
  const text = message.trim();
  if (!text.startsWith('{') || !text.includes('"_aws"')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const aws = (value as { _aws?: unknown })._aws;
    if (typeof aws !== 'object' || aws === null) return undefined;
    const directives = (aws as { CloudWatchMetrics?: unknown }).CloudWatchMetrics;
    return Array.isArray(directives) ? (value as MetricsBlob) : undefined;
  } catch {
    return undefined;
  }
}

/** Classifies one log message: `task` (show it), `platform` or `metrics` (hidden unless --all). */
export function classifyLogLine(message: string): LogLineKind {
  if (PLATFORM.test(message.trimStart())) return 'platform';
  return metricsBlob(message) ? 'metrics' : 'task';
}

const UNITS: Record<string, string> = {
  Milliseconds: 'ms',
  Seconds: 's',
  Microseconds: 'µs',
  Bytes: 'B',
  Kilobytes: 'kB',
  Megabytes: 'MB',
  Percent: '%',
};

function metricValue(value: unknown, unit: unknown): string {
  const text = Array.isArray(value) ? value.map(String).join(',') : String(value);
  return `${text}${typeof unit === 'string' ? (UNITS[unit] ?? '') : ''}`;
}

/**
 * A metrics blob on one line: `[metrics] Succeeded=1 RunDuration=28ms` (each metric the blob
 * declares, with its value and a short unit). A message that is not a metrics blob comes back
 * as it is.
 */
export function foldMetrics(message: string): string {
  const blob = metricsBlob(message);
  if (!blob) return message;
  const parts = blob._aws.CloudWatchMetrics.flatMap((d) => d.Metrics ?? [])
    .filter((m): m is { Name: string; Unit?: unknown } => typeof m.Name === 'string' && m.Name in blob)
    .map((m) => `${m.Name}=${metricValue(blob[m.Name], m.Unit)}`);
  return parts.length > 0 ? `[metrics] ${parts.join(' ')}` : '[metrics]';
}

/** One log line from the API. */
export interface LogLine {
  at: string;
  level: string | null;
  message: string;
}

/** `HH:MM:SS.mmm` (UTC) of an ISO instant, or the text as it is when it does not parse. */
function clock(at: string): string {
  const time = new Date(at);
  return Number.isNaN(time.getTime()) ? at : time.toISOString().slice(11, 23);
}

/**
 * A log line as `tickwork logs` prints it, or undefined when it is hidden: `HH:MM:SS.mmm LEVEL
 * message` (the level padded, left out when there is none). With `all`, platform lines come
 * prefixed `[platform]` and metrics blobs folded.
 */
export function formatLogLine(line: LogLine, all: boolean): string | undefined {
  const kind = classifyLogLine(line.message);
  if (kind !== 'task' && !all) return undefined;
  const message =
    kind === 'metrics'
      ? foldMetrics(line.message)
      : kind === 'platform'
        ? `[platform] ${line.message}`
        : line.message;
  const level = line.level ? `${line.level.toUpperCase().padEnd(5)} ` : '';
  return `${clock(line.at)} ${level}${message.trimEnd()}`;
}
