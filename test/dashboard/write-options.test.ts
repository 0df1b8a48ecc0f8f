/**
 * The two write-saving task options in the dashboard, in Chromium against a real local runtime:
 * `idempotent` and `listSucceeded` set in the task form's "More options", shown on the task's
 * page with what they give up, back to their defaults (absent) when reset, and `listSucceeded`
 * set to list every success.
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
    const listed = form.getByLabel('Successful runs on the Runs page');
    expect(await listed.inputValue()).toBe('default');
    expect(await form.getByLabel('Idempotent').isChecked()).toBe(false);
    await form.getByLabel('Idempotent').check();
    await listed.selectOption('no');
    await form.getByRole('button', { name: 'Create task' }).click();
    await form.waitFor({ state: 'detached' });
    const created = await callApi<Flags>(runtime, 'GET', '/tasks/ping');
    expect(created).toMatchObject({ idempotent: true, listSucceeded: false });

    const writeOptions = async (text: string) => {
      await page.goto(`${runtime.url}/#/tasks/ping`);
      await expect
        .poll(() => page.getByTestId('write-options').textContent(), { timeout: 10_000 })
        .toBe(text);
    };
    await writeOptions(
      'idempotent: a duplicate delivery may run the body twice · successful runs listed only here, not on the Runs page',
    );

    const edit = async (change: (form: ReturnType<typeof page.getByTestId>) => Promise<void>) => {
      await page.goto(`${runtime.url}/#/`);
      await page
        .locator('tr[data-task-id="ping"]')
        .getByRole('button', { name: 'Edit Heartbeat ping' })
        .click();
      const form = page.getByTestId('task-form');
      await form.getByText('More options').click();
      await change(form);
      await form.getByRole('button', { name: 'Save changes' }).click();
      await form.waitFor({ state: 'detached' });
      return callApi<Flags>(runtime, 'GET', '/tasks/ping');
    };
    const reset = await edit(async (form) => {
      expect(await form.getByLabel('Idempotent').isChecked()).toBe(true);
      expect(await form.getByLabel('Successful runs on the Runs page').inputValue()).toBe('no');
      await form.getByLabel('Idempotent').uncheck();
      await form.getByLabel('Successful runs on the Runs page').selectOption('default');
    });
    expect(reset).not.toHaveProperty('idempotent');
    expect(reset).not.toHaveProperty('listSucceeded');
    // The default for a task due every minute: its scheduled successes only in its history.
    await writeOptions(
      'scheduled successes listed only here (due every minute); run-now, retries and replays also on the Runs page',
    );

    const all = await edit((form) =>
      form
        .getByLabel('Successful runs on the Runs page')
        .selectOption('yes')
        .then(() => undefined),
    );
    expect(all).toMatchObject({ listSucceeded: true });
    await page.goto(`${runtime.url}/#/tasks/ping`);
    await page.getByTestId('task-page').getByText('Next slots').waitFor();
    expect(await page.getByTestId('write-options').count()).toBe(0);
  }, 60_000);
});
