/**
 * `npm run bench -- --peers`: Tickwork's local runtime, pg-boss and BullMQ side by side on this
 * machine, one system at a time: `n` tasks on `* * * * *` (1,000 and 10,000), a handler that
 * records its start, two consecutive minutes measured, then the same with two instances on one
 * store. Per run: lateness (handler start minus slot) p50 and p99, drain (the last start of a
 * minute minus its slot), CPU per 1,000 runs (this process and its descendants: the store's
 * server, Tickwork's workers), peak resident memory of both, duplicates (a slot started twice) and missing slots.
 * Not part of `npm test`: it takes a quarter of an hour or more.
 */
import { loadavg } from 'node:os';
import { clockMs, percentile, round, sleep } from '../harness.js';
import { treeCpuMs, treeRssMiB } from './services.js';
import {
  bullMqSystem,
  type PeerSystem,
  pgBossSystem,
  type Running,
  type Start,
  tickworkSystem,
} from './systems.js';

export interface PeerRow {
  system: string;
  n: number;
  instances: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  /** Per measured minute: last start minus slot, ms; NaN when some slot never started. */
  drainMs: number[];
  cpuSecondsPer1000: number;
  peakRssMiB: number;
  duplicates: number;
  missing: number;
  /** Slots recorded skipped (Tickwork's overlap policy: the task's previous run had not started). */
  skipped: number;
  /** One row per measured minute. */
  minutes: MinuteRow[];
}

/** One measured minute: the runs of its slot, and the CPU spent from its slot to the next. */
export interface MinuteRow {
  /** The slot, ISO 8601. */
  slot: string;
  /** Runs of this slot started (by the end of the run). */
  started: number;
  /** Last start minus the slot, ms; NaN when some slot never started. */
  drainMs: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  /** Runs of this slot started before the next slot. */
  startedInTime: number;
  /** CPU of the whole process tree in this minute per 1,000 runs started in it (by start time). */
  cpuSecondsPer1000: number;
  /** The store's server (DynamoDB Local's JVM, PostgreSQL, Redis): its share of that CPU. */
  serverCpuShare: number;
  /** The server's own CPU per 1,000 runs: a floor for the whole, whatever the rest costs. */
  serverCpuSecondsPer1000: number;
  /** The tree's CPU in this minute, in cores (CPU seconds per second). */
  cores: number;
  skipped: number;
  duplicates: number;
  missing: number;
  /** The machine's 1-minute load average at the minute's end. */
  load1: number;
  /**
   * With `--breakdown` (Tickwork): per 1,000 runs started in this minute, CPU seconds by process
   * kind (`cpu.runtime`, `cpu.workers`) and engine requests by operation.
   */
  detail?: Record<string, number>;
}

export interface PeersOptions {
  sizes?: number[];
  systems?: string[];
  /** Minutes measured per row (default 2). */
  minutes?: number;
  /** Instance counts: 1 at every size, then 2 at the smallest (default [1, 2]). */
  instances?: number[];
  /** Another checkout whose `tickwork dev` the Tickwork rows run (a before/after comparison). */
  devRoot?: string;
  /** Tickwork rows: CPU by process kind and engine requests by operation, per minute. */
  breakdown?: boolean;
  log?: (line: string) => void;
  /** Called with each row as soon as it is measured. */
  onRow?: (row: PeerRow) => void;
}

const MINUTE = 60_000;

/** Starts of the measured slots: lateness, drain, duplicates and missing. */
export function summarise(records: Start[], n: number, slots: number[]) {
  const starts = records.filter((s) => !s.skipped);
  const skipped = records.filter((s) => s.skipped && slots.includes(s.slot)).length;
  const measured = starts.filter((s) => slots.includes(s.slot));
  const seen = new Map<string, number>();
  for (const s of measured) {
    const key = `${s.task}@${s.slot}`;
    const earlier = seen.get(key);
    if (earlier === undefined || s.at < earlier) seen.set(key, s.at);
  }
  const lateness = [...seen.entries()].map(([key, at]) => at - Number(key.split('@')[1]));
  const drainMs = slots.map((slot) => {
    const ofSlot = [...seen.entries()].filter(([key]) => key.endsWith(`@${slot}`));
    return ofSlot.length < n ? Number.NaN : Math.max(...ofSlot.map(([, at]) => at)) - slot;
  });
  return {
    latenessP50Ms: percentile(lateness, 50),
    latenessP99Ms: percentile(lateness, 99),
    drainMs,
    duplicates: measured.length - seen.size,
    missing: n * slots.length - seen.size,
    runs: seen.size,
    skipped,
    starts: [...seen.entries()].map(([key, at]) => ({ slot: Number(key.split('@')[1]), at })),
  };
}

/** Sleeps until `at` (epoch ms), sampling the memory of `pids` every second; returns the peak. */
async function waitSampling(at: number, pids: number[], peak: number): Promise<number> {
  let top = peak;
  while (Date.now() < at) {
    top = Math.max(
      top,
      pids.reduce((sum, pid) => sum + treeRssMiB(pid), 0),
    );
    await sleep(Math.min(1000, Math.max(0, at - Date.now())));
  }
  return top;
}

interface Sample {
  at: number;
  treeMs: number;
  serverMs: number;
  detail?: Record<string, number>;
}

function sample(running: Running): Sample {
  return {
    at: Date.now(),
    treeMs: treeCpuMs(process.pid),
    serverMs: treeCpuMs(running.serverPid),
    ...(running.detail ? { detail: running.detail() } : {}),
  };
}

/** The counters' growth from one sample to the next, per 1,000 runs (CPU in seconds). */
function detailPer1000(from: Sample, to: Sample, runs: number): Record<string, number> | undefined {
  if (!from.detail || !to.detail || runs === 0) return undefined;
  const per: Record<string, number> = {};
  for (const [key, value] of Object.entries(to.detail)) {
    const grown = value - (from.detail[key] ?? 0);
    per[key] = round((key.startsWith('cpu.') ? grown / 1000 : grown) * (1000 / runs), 2);
  }
  return per;
}

/** Per measured minute: its slot's starts, and the CPU from its sample to the next. */
function minuteRows(
  summary: ReturnType<typeof summarise>,
  records: Start[],
  n: number,
  slots: number[],
  samples: Sample[],
  loads: number[],
): MinuteRow[] {
  return slots.map((slot, i) => {
    const one = summarise(records, n, [slot]);
    const from = samples[i] as Sample;
    const to = samples[i + 1] as Sample;
    const startedThen = summary.starts.filter((s) => s.at >= from.at && s.at < to.at).length;
    const cpuMs = to.treeMs - from.treeMs;
    return {
      slot: new Date(slot).toISOString(),
      started: one.runs,
      drainMs: one.drainMs[0] as number,
      latenessP50Ms: one.latenessP50Ms,
      latenessP99Ms: one.latenessP99Ms,
      startedInTime: one.starts.filter((s) => s.at < slot + MINUTE).length,
      cpuSecondsPer1000: startedThen > 0 ? round(cpuMs / startedThen, 2) : Number.NaN,
      serverCpuShare: cpuMs > 0 ? round((to.serverMs - from.serverMs) / cpuMs, 2) : Number.NaN,
      serverCpuSecondsPer1000:
        startedThen > 0 ? round((to.serverMs - from.serverMs) / startedThen, 2) : Number.NaN,
      cores: round(cpuMs / (to.at - from.at), 2),
      skipped: one.skipped,
      duplicates: one.duplicates,
      missing: one.missing,
      load1: loads[i] as number,
      ...(from.detail ? { detail: detailPer1000(from, to, startedThen) ?? {} } : {}),
    };
  });
}

/**
 * One row: `n` tasks, `instances` schedulers, `minutes` consecutive slots measured.
 *
 * Long because: set-up, the sampled minutes and the summary are one measurement's timeline.
 */
async function measure(
  system: PeerSystem,
  run: { n: number; instances: number; minutes: number; devRoot?: string; breakdown?: boolean },
  log: (line: string) => void,
) {
  const { n, instances, minutes } = run;
  // The first measured slot: a minute boundary far enough ahead for the setup (10,000 schedules).
  const setupBudget = 20_000 + n * 8;
  const firstSlot = Math.ceil((Date.now() + setupBudget) / MINUTE) * MINUTE;
  const slots = Array.from({ length: minutes }, (_, i) => firstSlot + i * MINUTE);
  const begun = clockMs();
  const running = await system.start({
    n,
    instances,
    firstSlot: new Date(firstSlot),
    log,
    ...(run.devRoot ? { devRoot: run.devRoot } : {}),
    ...(run.breakdown ? { breakdown: true } : {}),
  });
  log(`  peers: ${system.name}, n=${n} x${instances}: set up in ${round((clockMs() - begun) / 1000, 1)} s`);
  if (Date.now() > firstSlot - 2_000)
    log('  peers: setup overran the first slot; its lateness includes that');
  // The servers (DynamoDB Local, PostgreSQL, Redis) and Tickwork's workers are this process's
  // descendants: its tree holds the whole system.
  const pids = [process.pid];
  let peak = await waitSampling(firstSlot - 1_000, pids, 0);
  const samples = [sample(running)];
  const loads: number[] = [];
  // Every measured minute, then until just before the slot after the last would fire.
  for (let i = 1; i <= minutes; i++) {
    peak = await waitSampling(firstSlot + i * MINUTE - (i === minutes ? 2_000 : 1_000), pids, peak);
    samples.push(sample(running));
    loads.push(round(loadavg()[0] as number, 2));
    log(`  peers: minute ${i} of ${minutes} measured (load average ${loads.at(-1)})`);
  }
  const records = await running.starts();
  await running.stop();
  const summary = summarise(records, n, slots);
  const cpuMs = (samples.at(-1) as Sample).treeMs - (samples[0] as Sample).treeMs;
  const row: PeerRow = {
    system: system.name,
    n,
    instances,
    latenessP50Ms: summary.latenessP50Ms,
    latenessP99Ms: summary.latenessP99Ms,
    drainMs: summary.drainMs,
    cpuSecondsPer1000: summary.runs > 0 ? round(cpuMs / summary.runs, 2) : Number.NaN,
    peakRssMiB: Math.round(peak),
    duplicates: summary.duplicates,
    missing: summary.missing,
    skipped: summary.skipped,
    minutes: minuteRows(summary, records, n, slots, samples, loads),
  };
  log(`  peers: ${JSON.stringify(row)}`);
  return row;
}

const systems = [tickworkSystem, pgBossSystem, bullMqSystem];

/** Every system at every size with one instance, then at the smallest size with two. */
export async function runPeers(options: PeersOptions = {}): Promise<PeerRow[]> {
  const log = options.log ?? (() => {});
  const sizes = options.sizes ?? [1000, 10_000];
  const chosen = systems.filter(
    (s) => !options.systems || options.systems.some((name) => s.name.toLowerCase().includes(name)),
  );
  const rows: PeerRow[] = [];
  const add = (row: PeerRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  const minutes = options.minutes ?? 2;
  const instances = options.instances ?? [1, 2];
  const devRoot = {
    ...(options.devRoot ? { devRoot: options.devRoot } : {}),
    ...(options.breakdown ? { breakdown: true } : {}),
  };
  for (const system of chosen) {
    for (const count of instances) {
      // Several instances at the smallest size only, as a check of duplicates.
      for (const n of count === 1 ? sizes : [Math.min(...sizes)])
        add(await measure(system, { n, instances: count, minutes, ...devRoot }, log));
    }
  }
  return rows;
}

const seconds = (ms: number) => (Number.isNaN(ms) ? 'not drained' : `${round(ms / 1000, 2)} s`);

/** The comparison as a Markdown table. */
export function formatPeers(rows: PeerRow[]): string {
  const lines = [
    '| system | N | instances | lateness p50 / p99 | drain (minute 1, 2) | CPU s per 1,000 runs | peak RSS MiB | duplicates, missing |',
    '|---|---:|---:|---|---|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.system} | ${r.n.toLocaleString('en-US')} | ${r.instances} | ${seconds(r.latenessP50Ms)} / ${seconds(r.latenessP99Ms)} | ` +
        `${r.drainMs.map(seconds).join(', ')} | ${r.cpuSecondsPer1000} | ${r.peakRssMiB} | ${r.duplicates}, ${r.missing} |`,
    );
  }
  return lines.join('\n');
}

const perMille = (ms: number) => (Number.isNaN(ms) ? '-' : String(ms));

/** Each row's minutes, as one Markdown table per row. */
export function formatMinutes(rows: PeerRow[]): string {
  return rows
    .map((r) =>
      [
        `${r.system}, N = ${r.n.toLocaleString('en-US')}, ${r.instances} instance(s):`,
        '',
        "| slot | started (before next slot) | drain | lateness p50 / p99 | CPU s per 1,000 runs (the server's) | tree cores | server share | skipped, missing, duplicates | load avg |",
        '|---|---:|---|---|---:|---:|---:|---|---:|',
        ...r.minutes.map(
          (m) =>
            `| ${m.slot.slice(11, 16)} | ${m.started} (${m.startedInTime}) | ${seconds(m.drainMs)} | ` +
            `${seconds(m.latenessP50Ms)} / ${seconds(m.latenessP99Ms)} | ${perMille(m.cpuSecondsPer1000)} (${perMille(m.serverCpuSecondsPer1000)}) | ` +
            `${m.cores} | ${m.serverCpuShare} | ${m.skipped}, ${m.missing}, ${m.duplicates} | ${m.load1} |`,
        ),
        ...detailLines(r.minutes),
      ].join('\n'),
    )
    .join('\n\n');
}

/** With `--breakdown`: per minute, the CPU by process kind and the engine's requests per 1,000 runs. */
function detailLines(minutes: MinuteRow[]): string[] {
  if (!minutes.some((m) => m.detail)) return [];
  return [
    '',
    'Per 1,000 runs started in the minute (CPU seconds by process; engine requests by operation):',
    '',
    ...minutes.map(
      (m) =>
        `- ${m.slot.slice(11, 16)}: ${Object.entries(m.detail ?? {})
          .map(([key, value]) => `${key} ${value}`)
          .join(', ')}`,
    ),
  ];
}
