/**
 * The benchmark's report: its shape, the check that a report is well formed (what CI asserts),
 * and the table printed on stdout.
 */

export const SECTIONS = [
  'ceiling',
  'throughput',
  'scaling',
  'cost',
  'lateness',
  'runs',
  'precision',
  'scale',
] as const;
export type SectionName = (typeof SECTIONS)[number];

/** One goal of issue 7, with the measured value and whether it was met. */
export interface Goal {
  section: SectionName;
  name: string;
  /** The goal as written, e.g. `>= 0.8`. */
  target: string;
  value: number;
  unit: string;
  met: boolean;
}

/** One printed row: a figure that is not itself a goal. */
export interface Figure {
  section: SectionName;
  name: string;
  value: number;
  unit: string;
}

export interface SectionResult {
  /** Wall time of the section, setup included. */
  durationMs: number;
  figures: Figure[];
  goals: Goal[];
  /** Everything else the section measured, for the JSON file. */
  details: Record<string, unknown>;
  notes: string[];
}

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  os: string;
  node: string;
  java: string;
  dynamoDbLocal: string;
  awsSdk: string;
}

export interface BenchReport {
  version: 1;
  quick: boolean;
  startedAt: string;
  durationMs: number;
  command: string;
  machine: Machine;
  settings: {
    concurrency: number;
    invokeLatencyMs: number;
    shardCount: number;
  };
  sections: Partial<Record<SectionName, SectionResult>>;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Problems that make a report unusable: a missing section (of those asked for), a goal or figure
 * without a finite value. Timings are not judged. Empty when the report is well formed.
 */
export function reportProblems(report: BenchReport, expected: readonly SectionName[] = SECTIONS): string[] {
  const problems: string[] = [];
  if (report.version !== 1) problems.push('version is not 1');
  if (!isNumber(report.durationMs)) problems.push('durationMs is not a number');
  if (!report.machine || !isNumber(report.machine.nproc)) problems.push('machine.nproc missing');
  for (const name of expected) {
    const section = report.sections[name];
    if (!section) {
      problems.push(`section ${name} is missing`);
      continue;
    }
    if (!isNumber(section.durationMs)) problems.push(`${name}.durationMs is not a number`);
    if (section.figures.length + section.goals.length === 0) problems.push(`${name} measured nothing`);
    for (const f of section.figures) {
      if (!isNumber(f.value)) problems.push(`${name}: figure "${f.name}" is ${String(f.value)}`);
    }
    for (const g of section.goals) {
      if (!isNumber(g.value)) problems.push(`${name}: goal "${g.name}" is ${String(g.value)}`);
      if (typeof g.met !== 'boolean') problems.push(`${name}: goal "${g.name}" has no verdict`);
    }
  }
  return problems;
}

function formatValue(value: number, unit: string): string {
  const abs = Math.abs(value);
  const text =
    abs >= 1000
      ? value.toFixed(0)
      : abs >= 100
        ? value.toFixed(1)
        : abs >= 1
          ? value.toFixed(2)
          : value.toFixed(3);
  return unit ? `${text} ${unit}` : text;
}

/** The stdout table: every figure, then every goal with its verdict. */
export function formatReport(report: BenchReport): string {
  const rows: string[][] = [['section', 'measure', 'value', 'goal', '']];
  for (const name of SECTIONS) {
    const section = report.sections[name];
    if (!section) continue;
    for (const f of section.figures) rows.push([name, f.name, formatValue(f.value, f.unit), '', '']);
    for (const g of section.goals)
      rows.push([name, g.name, formatValue(g.value, g.unit), g.target, g.met ? 'met' : 'MISSED']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1)) out.push(line(r));
  const notes = SECTIONS.flatMap((name) =>
    (report.sections[name]?.notes ?? []).map((n) => `  [${name}] ${n}`),
  );
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  const m = report.machine;
  out.push(
    '',
    `${report.quick ? 'QUICK run (small sizes; figures are not comparable)' : 'full run'} in ` +
      `${(report.durationMs / 1000).toFixed(1)} s on ${m.nproc} cores, ${m.memoryGiB} GiB, Node ${m.node}, ` +
      `${m.java}, DynamoDB Local ${m.dynamoDbLocal}`,
  );
  return out.join('\n');
}
