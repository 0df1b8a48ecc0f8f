/**
 * What `tickwork reshard` runs: `reshardDueIndex` on a table, reached with the AWS SDK's usual
 * credentials and region (or a local endpoint). Here, beside the other commands that open the
 * table themselves (`tickwork dev`), so the CLI loads the SDK only when this command runs.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ReshardReport, reshardDueIndex } from '../store/reshard.js';

export interface ReshardOptions {
  table: string;
  shardCount: number;
  /** A DynamoDB endpoint (DynamoDB Local) instead of AWS's. */
  endpoint?: string;
  region?: string;
  log?: (line: string) => void;
}

/** Moves the tasks of `table` to their shard under `shardCount`; see `src/store/reshard.ts`. */
export async function reshardTable(options: ReshardOptions): Promise<ReshardReport> {
  const client = new DynamoDBClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  try {
    const doc = DynamoDBDocumentClient.from(client);
    return await reshardDueIndex({
      doc,
      tableName: options.table,
      shardCount: options.shardCount,
      ...(options.log ? { log: options.log } : {}),
    });
  } finally {
    client.destroy();
  }
}
