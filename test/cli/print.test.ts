/** How one run prints, without an API: the text lines and the log link. */
import { describe, expect, it } from 'vitest';
import type { OutputFormat } from '../../src/cli/args.js';
import { ApiClient, type RunView } from '../../src/cli/client.js';
import type { Ctx } from '../../src/cli/command.js';
import { printRun } from '../../src/cli/print.js';

const aRun = (overrides: Partial<RunView> = {}): RunView => ({
  runId: '01JDRUN',
  taskId: 'nightly',
  type: 'demo.echo',
  status: 'succeeded',
  trigger: 'manual',
  attempt: 1,
  scheduledFor: '2026-03-29T00:59:00.000Z',
  dispatchedAt: '2026-03-29T00:59:00.100Z',
  startedAt: '2026-03-29T00:59:00.200Z',
  finishedAt: '2026-03-29T00:59:01.700Z',
  durationMs: 1500,
  latenessMs: 200,
  parameters: { batch: 50 },
  result: 'ok',
  error: null,
  progress: null,
  cancelRequested: false,
  note: null,
  slotCount: null,
  firstSlotAt: null,
  lastSlotAt: null,
  logs: '/tasks/nightly/runs/01JDRUN/logs',
  ranOn: {
    requestId: 'req-9',
    functionName: 'acme-reports',
    functionVersion: '$LATEST',
    logStream: 'local/4242',
  },
  ...overrides,
});

function printed(run: RunView, output: OutputFormat = 'table'): string {
  const lines: string[] = [];
  const client = new ApiClient({ endpoint: 'http://127.0.0.1:4000/' });
  const ctx: Ctx = {
    io: { out: (line) => lines.push(line), err: () => {}, env: {} },
    output,
    structured: output === 'json' || output === 'yaml',
    client: () => client,
  };
  printRun(ctx, run);
  return lines.join('\n');
}

describe('printRun', () => {
  it('prints the log route as a URL of the endpoint, and a CloudWatch link as it is', () => {
    expect(printed(aRun())).toMatch(
      /^logs:\s+http:\/\/127\.0\.0\.1:4000\/tasks\/nightly\/runs\/01JDRUN\/logs$/m,
    );
    const link = 'https://console.aws.amazon.com/cloudwatch/home#logsV2:x';
    expect(printed(aRun({ logs: link }))).toContain(`logs:          ${link}`);
    expect(JSON.parse(printed(aRun(), 'json')).logs).toBe('/tasks/nightly/runs/01JDRUN/logs');
  });

  it('names the slots a record stands for, and prints no slots line for a single slot', () => {
    const span = aRun({
      status: 'skipped',
      slotCount: 3,
      firstSlotAt: '2026-03-29T00:57:00.000Z',
      lastSlotAt: '2026-03-29T00:59:00.000Z',
    });
    expect(printed(span)).toMatch(
      /^slots:\s+3 slots, 2026-03-29T00:57:00\.000Z to 2026-03-29T00:59:00\.000Z$/m,
    );
    expect(printed(aRun())).not.toMatch(/^slots:/m);
  });

  it('-o wide adds the parameters and the dispatch time', () => {
    expect(printed(aRun(), 'wide')).toMatch(/^parameters:\s+\{"batch":50\}$/m);
    expect(printed(aRun())).not.toContain('parameters');
  });

  it('says where the run ran, and a dash before it was claimed', () => {
    expect(printed(aRun())).toMatch(/^ran on:\s+acme-reports:\$LATEST {2}local\/4242 {2}\(request req-9\)$/m);
    expect(printed(aRun({ ranOn: null }))).toMatch(/^ran on:\s+-$/m);
    expect(printed(aRun())).toMatch(/^lateness:\s+200 ms$/m);
  });
});
