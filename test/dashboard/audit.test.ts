/**
 * The dashboard's audit log in Chromium against a real local runtime: an action taken in the
 * page (disabling a task) and through the API (an edit, pause and resume) show up with who did
 * them and what changed, for every task or for the one chosen.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { callApi, dashboardSession, waitFor } from './support.js';

const session = dashboardSession(async (runtime) => {
  const api = (method: string, path: string, body?: unknown) => callApi(runtime, method, path, body);
  await api('POST', '/tasks', {
    id: 'audit-report',
    name: 'Audit report',
    type: 'demo.echo',
    schedule: '0 6 * * *',
    parameters: { list: 'weekly' },
  });
  await api('POST', '/tasks', {
    id: 'audit-other',
    name: 'Other task',
    type: 'demo.echo',
    schedule: '0 7 * * *',
  });
  await api('PATCH', '/tasks/audit-report', { schedule: '0 5 * * *', parameters: { list: 'daily' } });
  await api('POST', '/scheduler/pause');
  await api('POST', '/scheduler/resume');
});

const rowsOf = (dialog: ReturnType<Page['getByTestId']>) =>
  dialog.locator('tbody tr').evaluateAll((rows) =>
    rows.map((row) =>
      Array.from(row.querySelectorAll('td'))
        .slice(1)
        .map((td) => td.innerText.replace(/\s+/g, ' ').trim()),
    ),
  );

describe('dashboard audit log', () => {
  it('shows who did what and what changed, newest first, for every task or one', async () => {
    const { page, runtime } = session;
    await page.goto(`${runtime.url}/`);
    const row = page.locator('tr[data-task-id="audit-report"]');
    await row.getByRole('switch', { name: 'Enabled: Audit report' }).click();
    await waitFor(
      'the task to be disabled',
      async () =>
        (await callApi<{ enabled: boolean }>(runtime, 'GET', '/tasks/audit-report')).enabled === false,
    );

    await page.getByRole('button', { name: 'Audit log' }).click();
    const dialog = page.getByTestId('audit');
    await expect.poll(() => dialog.locator('tbody tr').count()).toBe(6);
    const all = await rowsOf(dialog);
    expect(all.map(([who, action, task]) => [who, action, task])).toEqual([
      ['local', 'Edited', 'Audit report'],
      ['local', 'Resumed the scheduler', ''],
      ['local', 'Paused the scheduler', ''],
      ['local', 'Edited', 'Audit report'],
      ['local', 'Created', 'Other task'],
      ['local', 'Created', 'Audit report'],
    ]);
    expect(all[0]?.[3]).toBe('enabled: true → false');
    expect(all[3]?.[3]).toBe('parameters.list: "weekly" → "daily" schedule: "0 6 * * *" → "0 5 * * *"');

    await dialog.getByRole('combobox', { name: 'Task' }).selectOption('audit-other');
    await expect.poll(() => dialog.locator('tbody tr').count()).toBe(1);
    expect((await rowsOf(dialog))[0]?.slice(0, 3)).toEqual(['local', 'Created', 'Other task']);
    await dialog.locator('tbody tr details summary').click();
    await expect.poll(() => dialog.locator('ul.changes').innerText()).toContain('schedule: "0 7 * * *"');

    await dialog.getByRole('combobox', { name: 'Task' }).selectOption('audit-report');
    await expect.poll(() => dialog.locator('tbody tr').count()).toBe(3);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
  });
});
