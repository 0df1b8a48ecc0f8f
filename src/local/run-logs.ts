/**
 * The local counterpart of CloudWatch Logs: the lines each run wrote (stdout and stderr of its
 * invocation, Powertools JSON lines included), kept in memory with fixed bounds and served by the
 * API at `GET /tasks/{id}/runs/{runId}/logs`.
 */

/** One captured line. */
export interface RunLogLine {
  /** ISO 8601 instant: the line's own `timestamp` for JSON lines, else when it was read. */
  at: string;
  /** `debug|info|warn|error|...` from a JSON line, `error` for plain stderr lines. */
  level?: string;
  message: string;
}

/** Bounds of what the log book keeps. */
export interface RunLogLimits {
  /** Runs kept; the oldest run's lines go first. */
  maxRuns: number;
  /** Lines kept per run; beyond that the earliest are dropped (and counted). */
  maxLinesPerRun: number;
  /** Characters kept of one line. */
  maxLineChars: number;
}

const defaultLimits: RunLogLimits = { maxRuns: 1000, maxLinesPerRun: 2000, maxLineChars: 8192 };

/** Keys of a Powertools JSON line that say where it came from, not what happened. */
const envelopeKeys = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  // The task SDK's persistent keys: the same on every line of a run's log.
  'taskId',
  'runId',
  'taskType',
  'attempt',
  'trigger',
  'requestId',
]);

interface RunLog {
  lines: RunLogLine[];
  dropped: number;
}

/**
 * Turns a raw output line into a log line: Powertools JSON lines keep their level, time and
 * message (other fields appended as compact JSON); anything else is kept as written.
 */
export function parseLogLine(raw: string, stream: 'stdout' | 'stderr', now: Date): RunLogLine {
  const text = raw.replace(/\r$/, '');
  if (text.startsWith('{') && text.endsWith('}')) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      if (typeof parsed.message === 'string' || typeof parsed.level === 'string') {
        const extras = Object.fromEntries(Object.entries(parsed).filter(([k]) => !envelopeKeys.has(k)));
        const at = typeof parsed.timestamp === 'string' ? new Date(parsed.timestamp) : now;
        const message = String(parsed.message ?? '');
        return {
          at: (Number.isNaN(at.getTime()) ? now : at).toISOString(),
          ...(typeof parsed.level === 'string' ? { level: parsed.level.toLowerCase() } : {}),
          message: Object.keys(extras).length > 0 ? `${message} ${JSON.stringify(extras)}` : message,
        };
      }
    } catch {
      // not JSON after all: keep the line as written
    }
  }
  return { at: now.toISOString(), ...(stream === 'stderr' ? { level: 'error' } : {}), message: text };
}

/** Bounded in-memory store of run logs, keyed by task id and run id. */
export class RunLogBook {
  private readonly runs = new Map<string, RunLog>();
  private readonly limits: RunLogLimits;

  constructor(limits: Partial<RunLogLimits> = {}) {
    this.limits = { ...defaultLimits, ...limits };
  }

  /** Adds a line to a run's log. */
  append(taskId: string, runId: string, line: RunLogLine): void {
    const key = `${taskId}\u0000${runId}`;
    let log = this.runs.get(key);
    if (!log) {
      log = { lines: [], dropped: 0 };
      this.runs.set(key, log);
      while (this.runs.size > this.limits.maxRuns) {
        const oldest = this.runs.keys().next().value;
        if (oldest === undefined) break;
        this.runs.delete(oldest);
      }
    }
    const message =
      line.message.length > this.limits.maxLineChars
        ? `${line.message.slice(0, this.limits.maxLineChars)}… (${line.message.length - this.limits.maxLineChars} more characters)`
        : line.message;
    log.lines.push({ ...line, message });
    if (log.lines.length > this.limits.maxLinesPerRun) {
      log.lines.shift();
      log.dropped++;
    }
  }

  /** A run's lines in the order written, or undefined when none were captured (or they were evicted). */
  read(taskId: string, runId: string): { lines: RunLogLine[] } | undefined {
    const log = this.runs.get(`${taskId}\u0000${runId}`);
    if (!log) return undefined;
    const first = log.lines[0];
    const notice: RunLogLine[] =
      log.dropped > 0 && first
        ? [{ at: first.at, level: 'warn', message: `(${log.dropped} earlier lines were dropped)` }]
        : [];
    return { lines: [...notice, ...log.lines] };
  }

  /** Runs currently held. */
  get size(): number {
    return this.runs.size;
  }
}
