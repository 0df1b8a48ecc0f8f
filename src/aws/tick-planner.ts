import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { TickPlanner } from '../core/ports.js';

/**
 * Asks the tick function to plan tasks now: an asynchronous (`Event`) invoke with
 * `{ "tasks": [...] }`, or `{}` for every due task. Lambda answers 202 once the event is queued,
 * so the API does not wait for the tick, which may hold the runs until their instants.
 */
export class LambdaTickPlanner implements TickPlanner {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async plan(taskIds?: readonly string[]): Promise<void> {
    const payload = taskIds === undefined ? {} : { tasks: [...taskIds] };
    const response = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
    if (response.StatusCode !== 202) {
      throw new Error(`Lambda answered ${response.StatusCode} to the plan request to ${this.functionName}`);
    }
  }
}
