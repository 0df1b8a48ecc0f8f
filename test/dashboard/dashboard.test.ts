/**
 * The dashboard in a real browser (Debian's Chromium) against a real local runtime: create a task
 * through the form (a bad schedule refused inline first), run it now and watch the progress bar
 * advance, see a refused action's message, cancel the run and find `cancelled` in its history,
 * pause and resume the scheduler. Takes the screenshots docs/ shows: into the ignored
 * `.tickwork/screenshots/`, or into `docs/screenshots/` with `npm run screenshots`
 * (`TICKWORK_SCREENSHOTS=docs`), so `npm test` never rewrites a tracked file.
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
const requested: string[] = [];

const api = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  callApi<T>(runtime, method, path, body);

async function runAndWait(taskId: string, parameters: Record<string, unknown>): Promise<void> {
  const { runId } = await api<{ runId: string }>('POST', `/tasks/${taskId}/run`, { parameters });
  await waitFor(`run ${runId} of ${taskId} to end`, async () => {
    const run = await api<{ status: string }>('GET', `/tasks/${taskId}/runs/${runId}`);
    return ['succeeded', 'failed', 'cancelled', 'timed-out'].includes(run.status);
  });
}

const row = (id: string) => page.locator(`tr[data-task-id="${id}"]`);

beforeAll(async () => {
  // Both at once: the runtime takes longest (DynamoDB Local).
  [runtime, browser] = await Promise.all([startRuntime(), launchChromium()]);
  // Neighbours for the list, so the screenshots look like a real installation.
  await api('POST', '/tasks', {
    id: 'send-digest',
    name: 'Send digest emails',
    type: 'demo.echo',
    schedule: '0 8 * * 1-5',
    timezone: 'America/New_York',
    parameters: { list: 'weekly' },
  });
  await api('POST', '/tasks', {
    id: 'import-prices',
    name: 'Import supplier prices',
    type: 'demo.fail',
    schedule: 'rate(6 hours)',
    retry: { maxAttempts: 1, backoffSeconds: 0 },
  });
  await api('POST', '/tasks', {
    id: 'purge-sessions',
    name: 'Purge old sessions',
    type: 'demo.echo',
    schedule: '30 2 * * *',
    enabled: false,
  });
  await Promise.all([runAndWait('send-digest', { list: 'weekly' }), runAndWait('import-prices', {})]);

  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('request', (request) => {
    requested.push(`${request.method()} ${request.url()}`);
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
}, 30_000);

describe('dashboard', () => {
  it('is served by the runtime at / with a strict CSP, and loads nothing from elsewhere', async () => {
    const response = await page.goto(`${runtime.url}/`);
    expect(response?.status()).toBe(200);
    const html = (await response?.text()) ?? '';
    expect(
      html,
      'GET / served something else: mount dashboardHandler (src/dashboard/serve.ts) as ApiDeps.dashboard',
    ).toContain('<div id="app">');
    expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
    await expect.poll(() => page.locator('tr[data-task-id]').count()).toBe(3); // the hidden-free list
    await expect.poll(() => page.getByTestId('scheduler-state').textContent()).toContain('Scheduler running');
    await expect.poll(() => row('import-prices').getByText('failed').count()).toBeGreaterThan(0);
    expect(
      requested.every((r) => r.split(' ')[1]?.startsWith(`${runtime.url}/`)),
      requested.join('\n'),
    ).toBe(true);
  });

  it('creates a task through the form, refusing a bad schedule inline first', async () => {
    // Keyboard: focus "New task" and press Enter.
    await page.getByRole('button', { name: 'New task' }).focus();
    await page.keyboard.press('Enter');
    const form = page.getByTestId('task-form');
    await form.waitFor();
    await form.getByLabel('Name', { exact: true }).fill('Nightly report');
    await form.getByLabel(/^Id/).fill('nightly-report');
    await form.getByLabel('Type', { exact: true }).selectOption('demo.work');
    const schedule = form.getByLabel('Schedule', { exact: true });
    await schedule.fill('*/5 * * *');
    const error = form.getByTestId('schedule-error');
    await expect.poll(() => error.textContent()).toContain('expected 5 cron fields');
    expect(await schedule.getAttribute('aria-invalid')).toBe('true');
    // Submitting anyway: the API refuses and the form says why; nothing is created.
    await form.getByRole('button', { name: 'Create task' }).click();
    await expect.poll(() => form.getByTestId('form-error').textContent()).toContain('cron fields');
    expect(await row('nightly-report').count()).toBe(0);

    await schedule.fill('0 3 * * *');
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await expect
      .poll(() => form.getByTestId('schedule-description').textContent())
      .toMatch(/03:00.*Europe\/Berlin/);
    const slots = form.locator('table.slots tbody tr');
    await expect.poll(() => slots.count()).toBe(5);
    expect(await slots.first().locator('td').first().textContent()).toContain('03:00:00');
    expect(await slots.first().locator('td').nth(1).textContent()).toMatch(/0[12]:00:00/); // 03:00 Berlin in UTC
    expect(await schedule.getAttribute('aria-invalid')).toBeNull();

    await form.getByRole('button', { name: 'Create task' }).click();
    await form.waitFor({ state: 'detached' });
    await row('nightly-report').waitFor();
    expect(await row('nightly-report').textContent()).toContain('demo.work');
    expect(await row('nightly-report').textContent()).toContain('Europe/Berlin');
  });

  it('runs it now with validated parameters and shows the progress bar advancing', async () => {
    await runAndWait('nightly-report', { steps: 3, stepMs: 50 }); // a finished run for the history
    await row('nightly-report').getByRole('button', { name: 'Run Nightly report now' }).click();
    const dialog = page.getByTestId('run-dialog');
    // demo.work's schema is registered, so the dialog opens with fields; this test drives its JSON
    // editor (the click waits for the dialog to open).
    await dialog.getByRole('button', { name: 'Edit as JSON' }).click();
    const editor = dialog.getByLabel('Parameters for this run (JSON object)');
    await editor.fill('{"steps": 60,');
    await expect.poll(() => dialog.getByTestId('parameters-error').textContent()).toContain('Not valid JSON');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForTimeout(200);
    expect(requested.filter((r) => r.startsWith('POST') && r.endsWith('/run'))).toEqual([]); // never sent
    await editor.fill('[1, 2]');
    await expect.poll(() => dialog.getByTestId('parameters-error').textContent()).toContain('JSON object');

    await editor.fill('{"steps": 60, "stepMs": 250}');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    const bar = row('nightly-report').getByRole('progressbar', { name: 'Progress of Nightly report' });
    const value = async () => Number((await bar.getAttribute('value')) ?? '0');
    const first = await waitFor('the progress bar to move', async () =>
      (await value()) >= 2 ? value() : undefined,
    );
    await waitFor('the progress bar to advance', async () => (await value()) >= first + 3);
    expect(Number(await bar.getAttribute('max'))).toBe(60);
    expect(await row('nightly-report').getByTestId('run-progress').textContent()).toMatch(
      /\d+% · step \d+ of 60 done/,
    );
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(shots, 'tasks-running.png') });
  }, 30_000);

  it('shows the API message when an action is refused (delete while running, without force)', async () => {
    await row('nightly-report').getByRole('button', { name: 'Delete Nightly report' }).click();
    const dialog = page.getByTestId('delete-dialog');
    expect(await dialog.getByLabel(/Force/).isChecked()).toBe(false);
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/active run|force/i);
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await row('nightly-report').count()).toBe(1);
  });

  it('cancels the run and shows cancelled in the history', async () => {
    await row('nightly-report').getByRole('button', { name: 'Cancel the run of Nightly report' }).click();
    await row('nightly-report').getByRole('button', { name: 'History of Nightly report' }).click();
    const history = page.getByTestId('history');
    await history.waitFor();
    const cancelled = history.locator('tr[data-status="cancelled"]');
    await cancelled.waitFor({ timeout: 20_000 });
    expect(await cancelled.textContent()).toContain('manual');
    await expect.poll(() => history.locator('tr[data-status="succeeded"]').count()).toBe(1);
    // The run's logs, from the local runtime's log endpoint.
    const succeeded = history.locator('tr[data-status="succeeded"]');
    await succeeded.getByRole('button', { name: /^Logs of run/ }).click();
    await expect
      .poll(() => history.locator('tr.logs-row').textContent())
      .toMatch(/all steps done|No log lines/);
    // How late it started, beside its start time.
    expect(await succeeded.locator('.lateness').textContent()).toMatch(/^ \+[\d.]+ (ms|s)$/);
    // Where it ran: the local worker's process, as the claim recorded it.
    expect(await history.locator('tr.logs-row .ran-on').textContent()).toMatch(
      /^Ran on \S+:\$LATEST · local\/\d+ · request \S+$/,
    );
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(shots, 'task-history.png') });
    await page.keyboard.press('Escape');
    await history.waitFor({ state: 'detached' });
    await expect.poll(() => row('nightly-report').locator('.badge.status-cancelled').count()).toBe(1);
  }, 30_000);

  it('pauses and resumes the scheduler', async () => {
    const state = page.getByTestId('scheduler-state');
    await page.getByRole('button', { name: 'Pause scheduler' }).click();
    await expect.poll(() => state.textContent()).toContain('Scheduler paused');
    expect((await api<{ state: string }>('GET', '/scheduler')).state).toBe('paused');
    await page.getByRole('button', { name: 'Resume scheduler' }).click();
    await expect.poll(() => state.textContent()).toContain('Scheduler running');
    expect((await api<{ state: string }>('GET', '/scheduler')).state).toBe('running');
  });

  it('stays readable at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(shots, 'tasks-phone.png') });
    expect(requested.every((r) => r.split(' ')[1]?.startsWith(`${runtime.url}/`))).toBe(true);
  });
});
