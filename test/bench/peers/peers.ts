/**
 * `npm run bench -- --peers`: Tickwork's local runtime, pg-boss and BullMQ side by side on this
 * machine, one system at a time: `n` tasks on `* * * * *` (1,000 and 10,000), a handler that
 * records its start, two consecutive minutes measured, then the same with two instances on one
 * store. Per run: lateness (handler start minus slot) p50 and p99, drain (the last start of a
 * minute minus its slot), CPU per 1,000 runs (this process and its descendants: the store's
 * server, Tickwork's workers), peak resident memory of both, duplicates (a slot started twice) and missing slots.
 * Not part of `npm test`: it takes a quarter of an hour or more.
 */
import { clockMs, percentile, round, sleep } from '../harness.js';
import { treeCpuMs, treeRssMiB } from './services.js';
import { bullMqSystem, type PeerSystem, pgBossSystem, type Start, tickworkSystem } from './systems.js';

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
}

export interface PeersOptions {
  sizes?: number[];
  systems?: string[];
  log?: (line: string) => void;
  /** Called with each row as soon as it is measured. */
  onRow?: (row: PeerRow) => void;
}

const MINUTE = 60_000;

/** Starts of the measured slots: lateness, drain, duplicates and missing. */
export function summarise(starts: Start[], n: number, slots: number[]) {
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

async function measure(system: PeerSystem, n: number, instances: number, log: (line: string) => void) {
  // The first measured slot: a minute boundary far enough ahead for the setup (10,000 schedules).
  const setupBudget = 20_000 + n * 8;
  const firstSlot = Math.ceil((Date.now() + setupBudget) / MINUTE) * MINUTE;
  const slots = [firstSlot, firstSlot + MINUTE];
  const begun = clockMs();
  const running = await system.start({ n, instances, firstSlot: new Date(firstSlot), log });
  log(`  peers: ${system.name}, n=${n} x${instances}: set up in ${round((clockMs() - begun) / 1000, 1)} s`);
  if (Date.now() > firstSlot - 2_000)
    log('  peers: setup overran the first slot; its lateness includes that');
  // The servers (DynamoDB Local, PostgreSQL, Redis) and Tickwork's workers are this process's
  // descendants: its tree holds the whole system.
  const pids = [process.pid];
  let peak = await waitSampling(firstSlot - 1_000, pids, 0);
  const cpu0 = pids.map(treeCpuMs);
  // Both minutes, then until just before a third slot would fire.
  peak = await waitSampling(firstSlot + 2 * MINUTE - 2_000, pids, peak);
  const cpu1 = pids.map(treeCpuMs);
  const starts = await running.starts();
  await running.stop();
  const summary = summarise(starts, n, slots);
  const cpuMs = cpu1.reduce((sum, c, i) => sum + c - (cpu0[i] as number), 0);
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
  for (const system of chosen) {
    for (const n of sizes) add(await measure(system, n, 1, log));
    add(await measure(system, Math.min(...sizes), 2, log));
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
