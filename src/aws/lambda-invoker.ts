import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { InvokeResult, RunEvent, TaskInvoker } from '../core/ports.js';

/**
 * Invokes task handlers with Lambda's asynchronous `Event` invocation: Lambda queues the event
 * and answers 202 at once, so a tick's cost does not depend on how long tasks run.
 */
export class LambdaTaskInvoker implements TaskInvoker {
  constructor(private readonly client: LambdaClient) {}

  async invoke(functionName: string, event: RunEvent): Promise<InvokeResult> {
    try {
      const response = await this.client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(event)),
        }),
      );
      if (response.StatusCode === 202) return { accepted: true };
      return {
        accepted: false,
        error: {
          name: 'InvokeRejected',
          message: `Lambda answered ${response.StatusCode} to an Event invoke`,
        },
      };
    } catch (error) {
      const e = error as Error;
      return { accepted: false, error: { name: e.name || 'Error', message: e.message } };
    }
  }
}
