/**
 * The two write-saving task options in the dashboard, in Chromium against a real local runtime:
 * `idempotent` and `listSucceeded` set in the task form's "More options", shown on the task's
 * page with what they give up, and back to their defaults (absent) when the boxes are reset.
 */
import { describe, expect, it } from 'vitest';
import { callApi, dashboardSession } from './support.js';

const session = dashboardSession();

interface Flags {
  idempotent?: boolean;
  listSucceeded?: boolean;
}

describe('idempotent and listSucceeded in the dashboard', () => {
  it('are set in the form, shown on the task page, and reset to the defaults by an edit', async () => {
    const { page, runtime } = session;
    await page.goto(`${runtime.url}/#/`);
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByTestId('task-form');
    await form.getByLabel('Name', { exact: true }).fill('Heartbeat ping');
    await form.getByLabel(/^Id/).fill('ping');
    await form.getByLabel('Type', { exact: true }).selectOption('demo.work');
    await form.getByLabel('Schedule', { exact: true }).fill('* * * * *');
    await form.getByText('More options').click();
    const listed = form.getByLabel('List successful runs in Runs');
    expect(await listed.isChecked()).toBe(true);
    expect(await form.getByLabel('Idempotent').isChecked()).toBe(false);
    await form.getByLabel('Idempotent').check();
    await listed.uncheck();
    await form.getByRole('button', { name: 'Create task' }).click();
    await form.waitFor({ state: 'detached' });
    const created = await callApi<Flags>(runtime, 'GET', '/tasks/ping');
    expect(created).toMatchObject({ idempotent: true, listSucceeded: false });

    await page.goto(`${runtime.url}/#/tasks/ping`);
    await expect
      .poll(() => page.getByTestId('write-options').textContent(), { timeout: 10_000 })
      .toBe(
        'idempotent: a duplicate delivery may run the body twice · successful runs listed only here, not on the Runs page',
      );

    await page.goto(`${runtime.url}/#/`);
    await page
      .locator('tr[data-task-id="ping"]')
      .getByRole('button', { name: 'Edit Heartbeat ping' })
      .click();
    const edit = page.getByTestId('task-form');
    await edit.getByText('More options').click();
    expect(await edit.getByLabel('Idempotent').isChecked()).toBe(true);
    expect(await edit.getByLabel('List successful runs in Runs').isChecked()).toBe(false);
    await edit.getByLabel('Idempotent').uncheck();
    await edit.getByLabel('List successful runs in Runs').check();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached' });
    const reset = await callApi<Flags>(runtime, 'GET', '/tasks/ping');
    expect(reset).not.toHaveProperty('idempotent');
    expect(reset).not.toHaveProperty('listSucceeded');
    await page.goto(`${runtime.url}/#/tasks/ping`);
    await page.getByTestId('task-page').getByText('Next slots').waitFor();
    expect(await page.getByTestId('write-options').count()).toBe(0);
  }, 60_000);
});
