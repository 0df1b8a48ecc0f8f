/**
 * Parameters in the dashboard, driven by each type's schema, in a real browser against a real
 * local runtime: the new-task form shows one input per field of a flat schema, the API's refusal
 * of a value appears beside its field, good values create the task; a nested schema gets a JSON
 * editor pre-filled with a valid example; the run-now dialog starts from the task's parameters.
 *
 * The types are registered with their schemas in the runtime's table (as deploy and `tickwork
 * dev` register them), then the registry is re-read through `GET /task-types`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { work } from '../../functions/examples/demo.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { parametersJsonSchema, taskTypeManifest } from '../../src/task/manifest.js';
import { callApi, launchChromium, type RuntimeProcess, repoRoot, startRuntime, waitFor } from './support.js';

/** Flat: one of each field kind. */
const reportParameters = z.object({
  region: z.enum(['eu', 'us', 'apac']).describe('Where the data lives'),
  pages: z.number().int().min(1).max(100).default(10),
  dryRun: z.boolean().default(false),
  title: z.string().optional().describe('Shown on the cover'),
});
/** Nested: needs the JSON editor. */
const syncParameters = z.object({
  target: z.object({ bucket: z.string(), region: z.enum(['eu', 'us']) }),
  days: z.int().min(7).default(30),
  tags: z.array(z.string()).min(1),
});

let runtime: RuntimeProcess;
let browser: Browser;
let page: Page;

const api = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  callApi<T>(runtime, method, path, body);

/** Registers the test's types, with schemas, in the table the runtime uses. */
async function registerTypes(): Promise<void> {
  const store = /DynamoDB Local (http:\/\/\S+) in memory, table ([A-Za-z0-9._-]+)/.exec(runtime.output());
  if (!store?.[1] || !store[2]) {
    throw new Error(`the runtime did not start DynamoDB Local (is Java installed?):\n${runtime.output()}`);
  }
  const client = new DynamoDBClient({
    endpoint: store[1],
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tasks = new DynamoTaskStore({ client, tableName: store[2] });
  const demoWork = (await tasks.listTaskTypes()).find((t) => t.name === 'demo.work');
  if (!demoWork) throw new Error('the runtime registered no demo.work');
  const [manifest] = taskTypeManifest({ 'demo.work': work });
  await tasks.putTaskType({ ...demoWork, ...manifest });
  await tasks.putTaskType({
    name: 'acme.report',
    functionName: demoWork.functionName,
    description: 'Builds the monthly report',
    parametersSchema: parametersJsonSchema(reportParameters),
  });
  await tasks.putTaskType({
    name: 'acme.sync',
    functionName: demoWork.functionName,
    parametersSchema: parametersJsonSchema(syncParameters),
  });
  client.destroy();
  await api('GET', '/task-types'); // the API re-reads its registry
}

const row = (id: string) => page.locator(`tr[data-task-id="${id}"]`);

beforeAll(async () => {
  [runtime, browser] = await Promise.all([startRuntime(), launchChromium()]);
  await registerTypes();
  await api('POST', '/tasks', {
    id: 'import-small',
    name: 'Small import',
    type: 'demo.work',
    schedule: '0 4 * * *',
    parameters: { steps: 3, stepMs: 10 },
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${runtime.url}/`);
  await row('import-small').waitFor();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
}, 30_000);

describe('parameters in the dashboard', () => {
  it('shows a flat schema as fields, the API’s refusal beside each field, and creates with good values', async () => {
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByTestId('task-form');
    await form.waitFor();
    await form.getByLabel('Name', { exact: true }).fill('Monthly report');
    await form.getByLabel(/^Id/).fill('monthly-report');
    await form.getByLabel('Type', { exact: true }).selectOption('acme.report');
    await form.getByLabel('Schedule', { exact: true }).fill('0 6 1 * *');

    const fields = form.getByTestId('parameter-fields');
    await fields.waitFor();
    const region = fields.getByLabel('region (required)');
    const pages = fields.getByLabel('pages', { exact: true });
    const dryRun = fields.getByLabel('dryRun', { exact: true });
    const title = fields.getByLabel('title', { exact: true });
    expect(await region.evaluate((e) => e.tagName)).toBe('SELECT');
    expect(await region.locator('option').allTextContents()).toEqual(['Choose…', 'eu', 'us', 'apac']);
    expect(await pages.getAttribute('type')).toBe('number');
    expect([await pages.getAttribute('min'), await pages.getAttribute('max')]).toEqual(['1', '100']);
    expect(await pages.getAttribute('placeholder')).toBe('10');
    expect(await dryRun.isChecked()).toBe(false);
    expect(await title.getAttribute('type')).toBe('text');
    const titleHint = await title.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${titleHint}"]`).textContent()).toBe('Shown on the cover');
    await page.mouse.move(0, 0);
    await page.screenshot({ path: `${repoRoot}/.tickwork/parameters-form.png` });

    // No region chosen and too many pages: refused by the API, each message beside its field.
    await pages.fill('500');
    await form.getByRole('button', { name: 'Create task' }).click();
    const errorOf = (name: string) => fields.locator(`[data-param="${name}"] .field-error`);
    await expect
      .poll(() => errorOf('region').textContent())
      .toBe('Invalid option: expected one of "eu"|"us"|"apac"');
    expect(await errorOf('pages').textContent()).toBe('Too big: expected number to be <=100');
    expect(await region.getAttribute('aria-invalid')).toBe('true');
    expect(await pages.getAttribute('aria-invalid')).toBe('true');
    expect(await form.getByTestId('form-error').textContent()).toContain('parameters.region');
    await page.screenshot({ path: `${repoRoot}/.tickwork/parameters-refused.png` });
    expect(await row('monthly-report').count()).toBe(0);

    await region.selectOption('us');
    await pages.fill('20');
    expect(await pages.getAttribute('aria-invalid')).toBeNull(); // a change clears the refusal
    await form.getByRole('button', { name: 'Create task' }).click();
    await form.waitFor({ state: 'detached' });
    await row('monthly-report').waitFor();
    const task = await api<{ parameters: unknown }>('GET', '/tasks/monthly-report');
    expect(task.parameters).toEqual({ region: 'us', pages: 20, dryRun: false });
  });

  it('opens the edit form with the task’s values in the fields', async () => {
    await row('monthly-report').getByRole('button', { name: 'Edit Monthly report' }).click();
    const form = page.getByTestId('task-form');
    await form.waitFor();
    const fields = form.getByTestId('parameter-fields');
    expect(await fields.getByLabel('region (required)').inputValue()).toBe('1'); // the option "us"
    expect(await fields.getByLabel('region (required)').locator('option:checked').textContent()).toBe('us');
    expect(await fields.getByLabel('pages', { exact: true }).inputValue()).toBe('20');
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
  });

  it('pre-fills a nested schema’s JSON editor with a valid example, not {}', async () => {
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByTestId('task-form');
    await form.waitFor();
    await form.getByLabel('Name', { exact: true }).fill('Sync buckets');
    await form.getByLabel(/^Id/).fill('sync-buckets');
    await form.getByLabel('Type', { exact: true }).selectOption('acme.sync');
    const editor = form.getByLabel('Default parameters (JSON object)');
    await expect
      .poll(async () => JSON.parse(await editor.inputValue()))
      .toEqual({ target: { bucket: '', region: 'eu' }, tags: [''] });
    await form.getByRole('button', { name: 'Create task' }).click();
    await form.waitFor({ state: 'detached' });
    await row('sync-buckets').waitFor();

    // A type without a schema keeps the free editor, empty.
    await page.getByRole('button', { name: 'New task' }).click();
    await form.waitFor();
    await form.getByLabel('Type', { exact: true }).selectOption('demo.echo');
    expect(JSON.parse(await form.getByLabel('Default parameters (JSON object)').inputValue())).toEqual({});
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
  });

  it('starts run-now from the task’s parameters and shows a refusal beside the field', async () => {
    await row('import-small').getByRole('button', { name: 'Run Small import now' }).click();
    const dialog = page.getByTestId('run-dialog');
    const steps = dialog.getByLabel('steps', { exact: true });
    await expect.poll(() => steps.inputValue()).toBe('3');
    expect(await dialog.getByLabel('stepMs', { exact: true }).inputValue()).toBe('10');
    expect(await dialog.getByLabel('failAt', { exact: true }).inputValue()).toBe('');
    await page.screenshot({ path: `${repoRoot}/.tickwork/parameters-run-now.png` });

    await steps.fill('0');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await expect
      .poll(() => dialog.locator('[data-param="steps"] .field-error').textContent())
      .toBe('Too small: expected number to be >=1');
    expect(await steps.getAttribute('aria-invalid')).toBe('true');

    await steps.fill('2');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    const runs = await waitFor('the run to succeed', async () => {
      const page = await api<{ items: { status: string; parameters: unknown }[] }>(
        'GET',
        '/tasks/import-small/runs',
      );
      return page.items.find((r) => r.status === 'succeeded');
    });
    expect(runs.parameters).toEqual({ steps: 2, stepMs: 10 });
  }, 30_000);
  it('keeps the fields inside the dialog at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByTestId('task-form');
    await form.waitFor();
    await form.getByLabel('Type', { exact: true }).selectOption('acme.report');
    const fields = form.getByTestId('parameter-fields');
    await fields.waitFor();
    await fields.scrollIntoViewIfNeeded();
    const overflow = await form.evaluate((dialog) => dialog.scrollWidth - dialog.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${repoRoot}/.tickwork/parameters-phone.png` });
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
  });
});
