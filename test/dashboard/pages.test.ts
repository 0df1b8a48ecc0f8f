/**
 * The dashboard's pages in Chromium against a real local runtime: runs across tasks with filters
 * kept in the address, a run's page (parameters, error and stack, lateness, logs) reached by a
 * link and left and re-entered with the browser's back and forward buttons, replay from it, a
 * task's page opened from a shared address, and a backfill previewed then started from it.
 * Screenshots go to the ignored `.tickwork/screenshots/`, or to `docs/screenshots/` with
 * `npm run screenshots`.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, launchChromium, type RuntimeProcess, repoRoot, startRuntime, waitFor } from './support.js';

const shots =
  process.env.TICKWORK_SCREENSHOTS === 'docs'
    ? join(repoRoot, 'docs', 'screenshots')
    : join(repoRoot, '.tickwork', 'screenshots');

let runtime: RuntimeProcess;
let browser: Browser;
let page: Page;

const api = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  callApi<T>(runtime, method, path, body);

async function runAndWait(taskId: string, parameters: Record<string, unknown>): Promise<string> {
  const { runId } = await api<{ runId: string }>('POST', `/tasks/${taskId}/run`, { parameters });
  await waitFor(`run ${runId} of ${taskId} to end`, async () => {
    const run = await api<{ status: string }>('GET', `/tasks/${taskId}/runs/${runId}`);
    return ['succeeded', 'failed', 'cancelled', 'timed-out'].includes(run.status);
  });
  return runId;
}

let failedRunId: string;

beforeAll(async () => {
  [runtime, browser] = await Promise.all([startRuntime(), launchChromium()]);
  await api('POST', '/tasks', {
    id: 'hourly-sync',
    name: 'Hourly sync',
    type: 'demo.echo',
    schedule: '0 * * * *',
    overlap: 'allow',
    parameters: { source: 'crm' },
  });
  await api('POST', '/tasks', {
    id: 'import-prices',
    name: 'Import supplier prices',
    type: 'demo.fail',
    schedule: 'rate(6 hours)',
  });
  await runAndWait('hourly-sync', { source: 'crm' });
  failedRunId = await runAndWait('import-prices', { supplier: 'acme' });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
}, 30_000);

const rows = () => page.locator('[data-testid="runs-page"] tbody tr');

describe('dashboard pages', () => {
  it('lists runs across tasks, filtered, with the filter in the address', async () => {
    await page.goto(`${runtime.url}/#/runs`);
    await page.getByTestId('runs-page').waitFor();
    await expect.poll(() => rows().count(), { timeout: 10_000 }).toBe(2);
    // Where the successes it leaves out are, while successes may be listed.
    expect(await page.getByTestId('listing-note').textContent()).toContain('in each task’s history');
    await page.getByLabel('State').selectOption('failed,timed-out');
    await expect.poll(() => page.url()).toContain('#/runs?status=failed%2Ctimed-out');
    await expect.poll(() => rows().count()).toBe(1);
    expect(await page.getByTestId('listing-note').count()).toBe(0);
    expect(await rows().first().getAttribute('data-run-id')).toBe(failedRunId);
    // The address alone brings the same view back (a bookmark, a shared link).
    const address = page.url();
    await page.goto(`${runtime.url}/#/`);
    await page.goto(address);
    await expect.poll(() => rows().count()).toBe(1);
    expect(await page.getByLabel('State').inputValue()).toBe('failed,timed-out');
    await page.screenshot({ path: join(shots, 'runs-failed.png') });
  });

  it("opens a run's page from the list, and back and forward work", async () => {
    await rows().first().getByRole('link').first().click();
    await expect.poll(() => page.url()).toContain(`#/tasks/import-prices/runs/${failedRunId}`);
    const runPage = page.getByTestId('run-page');
    await expect.poll(() => runPage.getByTestId('error').textContent()).toContain('Error');
    expect(await runPage.getByTestId('stack').textContent()).toMatch(/at /);
    expect(JSON.parse((await runPage.getByTestId('parameters').textContent()) ?? '{}')).toEqual({
      supplier: 'acme',
    });
    expect(await runPage.locator('[data-field="Trigger"]').textContent()).toContain('manual');
    expect(await runPage.locator('[data-field="Lateness"]').textContent()).toBe('n/a'); // a manual run has no slot to be late for
    await expect.poll(() => runPage.getByLabel('Log lines').count()).toBe(1);
    expect(await runPage.getByTestId('ran-on').textContent()).toMatch(/local\/\d+/);
    // Down to the error's message: the stack and logs name this machine's paths.
    await page.screenshot({
      path: join(shots, 'run-page.png'),
      clip: { x: 0, y: 0, width: 1280, height: 600 },
    });

    await page.goBack();
    await expect.poll(() => page.url()).toContain('#/runs?status=failed%2Ctimed-out');
    await expect.poll(() => rows().count()).toBe(1);
    await page.goForward();
    await runPage.waitFor();
    await page.reload();
    await expect.poll(() => runPage.getByTestId('error').count()).toBe(1);
  });

  it('replays the run: a new run, linked to the original', async () => {
    await page.getByTestId('run-page').getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => page.url()).not.toContain(failedRunId);
    const runPage = page.getByTestId('run-page');
    await expect.poll(() => runPage.locator('[data-field="Replay of"]').textContent()).toBe(failedRunId);
    expect(await runPage.locator('[data-field="Trigger"]').textContent()).toContain('replay');
    await expect.poll(() => runPage.getByTestId('error').count(), { timeout: 15_000 }).toBe(1);
    expect(JSON.parse((await runPage.getByTestId('parameters').textContent()) ?? '{}')).toEqual({
      supplier: 'acme',
    });
    // The original and its replay share the slot: each page lists both.
    await expect.poll(() => runPage.getByTestId('attempts').locator('li').count()).toBe(2);
    await runPage.locator('[data-field="Replay of"]').getByRole('link').click();
    await expect.poll(() => page.url()).toContain(failedRunId);
  });

  it("opens a task's page from its address and backfills a range after a preview", async () => {
    await page.goto(`${runtime.url}/#/tasks/hourly-sync`);
    const taskPage = page.getByTestId('task-page');
    await expect.poll(() => taskPage.locator('h2').textContent()).toBe('Hourly sync');
    await taskPage.getByRole('button', { name: 'Backfill…' }).click();
    const dialog = page.getByTestId('backfill');
    await dialog.getByLabel('From (UTC)').fill('2026-01-01T00:00');
    await dialog.getByLabel('To (UTC)').fill('2026-01-01T03:00');
    await dialog.getByLabel('Runs at once').fill('2');
    expect(await dialog.getByRole('button', { name: 'Start backfill' }).isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Preview slots' }).click();
    const preview = dialog.getByTestId('backfill-preview');
    await expect.poll(() => preview.textContent()).toContain('4 slots');
    expect(await preview.textContent()).toContain('hourly-sync:2026-01-01T00:00:00.000Z');
    await page.screenshot({ path: join(shots, 'backfill-preview.png') });
    await dialog.getByRole('button', { name: 'Start backfill' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => taskPage.getByRole('status').textContent()).toContain('4 slots');
    const backfilled = taskPage.locator('tbody tr', { hasText: 'backfill' });
    await expect.poll(() => backfilled.count(), { timeout: 20_000 }).toBe(4);
    await page.screenshot({ path: join(shots, 'task-page.png'), fullPage: true });

    await page.goto(`${runtime.url}/#/runs?trigger=backfill`);
    await expect.poll(() => rows().count()).toBe(4);
    await page.getByRole('link', { name: 'Tasks' }).click();
    await expect.poll(() => page.locator('tr[data-task-id]').count()).toBe(2);
  });
});
