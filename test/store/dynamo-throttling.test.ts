/**
 * Throttling, which DynamoDB Local never does: every kind of call the store sends comes back as
 * the core's `StoreUnavailableError` (the AWS error as its cause), a lost race stays a value, and
 * the API answers 503 `unavailable` without naming DynamoDB. EventBridge Scheduler's throttling
 * is translated the same way by its adapter.
 */
import {
  BatchExecuteStatementCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, SchedulerClient, SchedulerServiceException } from '@aws-sdk/client-scheduler';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { toErrorResponse } from '../../src/api/errors.js';
import { EventBridgeSchedulerControl } from '../../src/aws/scheduler-control.js';
import { StoreUnavailableError, UnavailableError } from '../../src/core/errors.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { startApi } from '../api/harness.js';
import { aRun, aTask } from '../support/builders.js';

function mockedStore() {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  return { mock: mockClient(doc), store: new DynamoTaskStore({ client: doc, tableName: 'mocked' }) };
}

const metadata = { $metadata: {} };
const throughputExceeded = () =>
  new ProvisionedThroughputExceededException({
    message: 'Rate of requests exceeds the allowed throughput',
    ...metadata,
  });
const throttling = () =>
  new DynamoDBServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    ...metadata,
  });
const requestLimit = () =>
  new RequestLimitExceeded({ message: 'Throughput exceeds the account limit', ...metadata });
const internal = () => new InternalServerError({ message: 'Internal server error', ...metadata });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    CancellationReasons: codes.map((Code) => ({ Code })),
    ...metadata,
  });

/** The error a call rejected with. */
async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.fail('the call succeeded'),
    (error: unknown) => error,
  );
}

describe('DynamoTaskStore under throttling (aws-sdk-client-mock)', () => {
  it('turns a throttled GetItem, Query, UpdateItem and BatchExecuteStatement into StoreUnavailableError', async () => {
    const { mock, store } = mockedStore();
    mock.on(GetCommand).rejects(throughputExceeded());
    mock.on(QueryCommand).rejects(throttling());
    mock.on(UpdateCommand).rejects(requestLimit());
    mock.on(BatchExecuteStatementCommand).rejects(internal());
    const [a, b] = [aTask(), aTask()];
    const next = (t: typeof a) => ({ task: { ...t, version: t.version + 1 }, expectedVersion: t.version });
    const fence = { token: 1, requestId: 'req-1' };

    const failures = [
      await failureOf(store.getTask(a.id)),
      await failureOf(store.queryDue(0, new Date())),
      await failureOf(store.listTaskTypes()),
      await failureOf(store.heartbeat(a.id, 'run-1', fence, { now: new Date(), leaseExpiresAt: new Date() })),
      await failureOf(store.saveTasks([next(a), next(b)])),
    ];

    for (const failure of failures) {
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as StoreUnavailableError).code).toBe('unavailable');
    }
    expect((failures[0] as Error).cause).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((failures[1] as Error).message).toContain('ThrottlingException');
  });

  it('turns a batch read that stays throttled into StoreUnavailableError', async () => {
    const { mock, store } = mockedStore();
    mock.on(BatchGetCommand).rejects(throughputExceeded());

    await expect(store.getRuns([{ taskId: 't1', runId: 'r1' }])).rejects.toThrow(StoreUnavailableError);
  });

  it('tells a transaction cancelled by throttling alone from one that lost a race', async () => {
    const { mock, store } = mockedStore();
    const task = aTask();
    const save = () =>
      store.saveTask(
        { ...task, version: task.version + 1 },
        { expectedVersion: task.version, runWrites: [{ kind: 'record', record: aRun({ taskId: task.id }) }] },
      );

    mock.on(TransactWriteCommand).rejects(cancelled('ThrottlingError', 'None'));
    await expect(save()).rejects.toThrow(StoreUnavailableError);
    mock.on(TransactWriteCommand).rejects(cancelled('None', 'ProvisionedThroughputExceeded'));
    await expect(save()).rejects.toThrow(StoreUnavailableError);
    // Throttled, but the version had moved on too: the race was lost whatever the retry does.
    mock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'ThrottlingError'));
    expect(await save()).toEqual({ saved: false, reason: 'version' });
    mock.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    expect(await save()).toEqual({ saved: false, reason: 'run' });
  });

  it('leaves a lost condition a value and any other error as it was', async () => {
    const { mock, store } = mockedStore();
    mock
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', ...metadata }),
      );
    const fence = { token: 1, requestId: 'req-1' };
    expect(
      await store.completeRun('t1', 'r1', fence, {
        status: 'succeeded',
        finishedAt: new Date(),
        durationMs: 1,
      }),
    ).toEqual({
      completed: false,
    });

    const refused = new DynamoDBServiceException({
      name: 'ValidationException',
      $fault: 'client',
      message: 'One or more parameter values were invalid',
      ...metadata,
    });
    mock.on(GetCommand).rejects(refused);
    expect(await failureOf(store.getTask('t1'))).toBe(refused);
  });
});

describe('the API when the store is unavailable', () => {
  it('answers 503 `unavailable` in the documented error shape, naming no AWS error', async () => {
    const { mock, store } = mockedStore();
    const api = await startApi(store);
    try {
      mock.on(QueryCommand).rejects(throughputExceeded());
      mock.on(GetCommand).rejects(throttling());

      for (const path of ['/tasks', '/tasks/t1']) {
        const response = await fetch(`${api.baseUrl}${path}`);
        const text = await response.text();

        expect(response.status, path).toBe(503);
        expect(JSON.parse(text), path).toEqual({
          error: { code: 'unavailable', message: 'a backing service is busy; retry later', details: [] },
        });
        expect(text).not.toMatch(/Exception|Throttl|DynamoDB/);
      }
    } finally {
      await api.close();
    }
  });

  it('hears a throttled EventBridge Scheduler as unavailable too', async () => {
    const client = new SchedulerClient({ region: 'us-east-1' });
    mockClient(client)
      .on(GetScheduleCommand)
      .rejects(new SchedulerServiceException({ name: 'ThrottlingException', $fault: 'client', ...metadata }));
    const control = new EventBridgeSchedulerControl(client, { name: 'tick' });

    const failure = await failureOf(control.state());

    expect(failure).toBeInstanceOf(UnavailableError);
    expect(toErrorResponse(failure).status).toBe(503);
  });

  it('maps every UnavailableError (EventBridge Scheduler too) to 503, and nothing by its AWS name', () => {
    expect(toErrorResponse(new UnavailableError('scheduler busy')).status).toBe(503);
    expect(toErrorResponse(new StoreUnavailableError('store busy')).body.error.code).toBe('unavailable');
    // An AWS error that no adapter translated is a plain failure.
    expect(toErrorResponse(throughputExceeded())).toMatchObject({
      status: 500,
      body: { error: { code: 'internal' } },
    });
  });
});
