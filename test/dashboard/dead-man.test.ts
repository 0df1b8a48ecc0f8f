/**
 * The dead-man promise in the dashboard, in Chromium against a real local runtime: declared in
 * the task form's "More options", refused inline when it is not a duration of a minute or more,
 * shown on the task's page with its deadline, and removed by clearing the field.
 */
import { describe, expect, it } from 'vitest';
import { callApi, dashboardSession } from './support.js';

const session = dashboardSession();

const row = (id: string) => session.page.locator(`tr[data-task-id="${id}"]`);

describe('mustSucceedEvery in the dashboard', () => {
  it('is declared in the form, shown on the task page, refused when too short, removed when cleared', async () => {
    const { page, runtime } = session;
    await page.goto(`${runtime.url}/#/`);
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByTestId('task-form');
    await form.getByLabel('Name', { exact: true }).fill('Nightly export');
    await form.getByLabel(/^Id/).fill('nightly-export');
    await form.getByLabel('Type', { exact: true }).selectOption('demo.work');
    await form.getByLabel('Schedule', { exact: true }).fill('0 2 * * *');
    await form.getByText('More options').click();
    await form.getByLabel(/^Must succeed every/).fill('26h');
    await form.getByRole('button', { name: 'Create task' }).click();
    await form.waitFor({ state: 'detached' });
    const task = await callApi<{ mustSucceedEvery: string; successDeadline: string }>(
      runtime,
      'GET',
      '/tasks/nightly-export',
    );
    expect(task.mustSucceedEvery).toBe('26h');

    await page.goto(`${runtime.url}/#/tasks/nightly-export`);
    const promise = page.getByTestId('promise');
    await expect
      .poll(() => promise.textContent(), { timeout: 10_000 })
      .toMatch(/^every 26h · next by .+ · last success never$/);

    await page.goto(`${runtime.url}/#/`);
    await row('nightly-export').getByRole('button', { name: 'Edit Nightly export' }).click();
    const edit = page.getByTestId('task-form');
    await edit.getByText('More options').click();
    const field = edit.getByLabel(/^Must succeed every/);
    expect(await field.inputValue()).toBe('26h');
    await field.fill('30s');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => edit.textContent()).toContain('below 1 minute');
    expect(await field.getAttribute('aria-invalid')).toBe('true');

    await field.fill('');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached' });
    const cleared = await callApi<{ mustSucceedEvery: string | null }>(
      runtime,
      'GET',
      '/tasks/nightly-export',
    );
    expect(cleared.mustSucceedEvery).toBeNull();
  }, 60_000);
});
