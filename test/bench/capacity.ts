/**
 * Capacity metering for the benchmark, outside the store: an AWS SDK middleware on the DynamoDB
 * client asks every data-plane command for `ReturnConsumedCapacity: 'INDEXES'` (unless the command
 * asked for something itself) and adds what DynamoDB reports to a tally per table, with the base
 * table's and each index's share apart. Document clients built on the client share its middleware
 * stack, so they are metered too.
 */
import type {
  Capacity,
  ConsumedCapacity,
  DynamoDBClient,
  ServiceInputTypes,
  ServiceOutputTypes,
} from '@aws-sdk/client-dynamodb';
import type { InitializeHandlerOptions, InitializeMiddleware } from '@smithy/types';
import type { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';

/** Capacity units, as DynamoDB reports them. */
export interface Units {
  readUnits: number;
  writeUnits: number;
}

/** What the calls on one table consumed. */
export interface CapacityTally extends Units {
  /** Calls sent (one per `send`, whatever the SDK retried inside it), failed ones included. */
  requests: number;
}

interface TableCapacity extends CapacityTally {
  /** The base table's own units. */
  table: Units;
  /** Each secondary index's units, by index name. */
  indexes: Map<string, Units>;
}

/** Operations that accept `ReturnConsumedCapacity`; the rest (DescribeTable...) go untouched. */
const meteredOperations = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);
const readOperations = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

type Input = Record<string, unknown>;

/** `GetItemCommand` and the document client's `GetCommand` alike: the operation's name. */
function operationOf(commandName: string | undefined): string | undefined {
  const name = commandName?.replace(/Command$/, '');
  if (name === undefined) return undefined;
  const documentNames: Record<string, string> = {
    Get: 'GetItem',
    Put: 'PutItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    BatchGet: 'BatchGetItem',
    BatchWrite: 'BatchWriteItem',
    TransactGet: 'TransactGetItems',
    TransactWrite: 'TransactWriteItems',
  };
  return documentNames[name] ?? name;
}

/** The table a PartiQL statement names (the store quotes it). */
function statementTable(statement: unknown): string | undefined {
  if (typeof statement !== 'string') return undefined;
  const match = /^\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM|SELECT\b[\s\S]*?\bFROM)\s+"((?:[^"]|"")+)"/i.exec(
    statement,
  );
  return match?.[1]?.replaceAll('""', '"');
}

/** Every table a command's input names. */
function tablesOf(input: Input): Set<string> {
  const tables = new Set<string>();
  if (typeof input.TableName === 'string') tables.add(input.TableName);
  for (const name of Object.keys((input.RequestItems as Input | undefined) ?? {})) tables.add(name);
  for (const item of (input.TransactItems as Input[] | undefined) ?? []) {
    for (const operation of Object.values(item)) {
      const name = (operation as Input | undefined)?.TableName;
      if (typeof name === 'string') tables.add(name);
    }
  }
  const statements = [
    input.Statement,
    ...((input.Statements as Input[] | undefined) ?? []).map((s) => s.Statement),
    ...((input.TransactStatements as Input[] | undefined) ?? []).map((s) => s.Statement),
  ];
  for (const statement of statements) {
    const name = statementTable(statement);
    if (name !== undefined) tables.add(name);
  }
  return tables;
}

/** A PartiQL call reads when every statement is a SELECT. */
function isRead(operation: string, input: Input): boolean {
  if (readOperations.has(operation)) return true;
  if (operation === 'ExecuteStatement') return /^\s*SELECT\b/i.test(String(input.Statement));
  if (operation === 'BatchExecuteStatement') {
    const statements = (input.Statements as Input[] | undefined) ?? [];
    return statements.length > 0 && statements.every((s) => /^\s*SELECT\b/i.test(String(s.Statement)));
  }
  return false;
}

/**
 * The tally of every metered client. Tables are told apart by name, so each benchmark section,
 * working on its own table, reads its own figures from one shared client.
 *
 * @example
 * const meter = CapacityMeter.attach(client);
 * await store.getTask('t1');
 * meter.tally(tableName); // { readUnits: 1, writeUnits: 0, requests: 1 }
 */
export class CapacityMeter {
  private readonly tables = new Map<string, TableCapacity>();

  /** A meter whose middleware is added to `client` (and so to document clients built on it). */
  static attach(client: DynamoDBClient): CapacityMeter {
    const meter = new CapacityMeter();
    client.middlewareStack.add(meter.middleware(), meter.options);
    return meter;
  }

  private readonly options: InitializeHandlerOptions = { step: 'initialize', name: 'benchCapacityMeter' };

  private middleware(): InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> {
    return (next, context) => async (args) => {
      const operation = operationOf(context.commandName);
      if (operation === undefined || !meteredOperations.has(operation)) return next(args);
      const input = args.input as Input;
      for (const name of tablesOf(input)) this.of(name).requests++;
      const result = await next({ ...args, input: { ReturnConsumedCapacity: 'INDEXES', ...input } });
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
        .ConsumedCapacity;
      const read = isRead(operation, input);
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) this.add(c, read);
      return result;
    };
  }

  private of(tableName: string): TableCapacity {
    let tally = this.tables.get(tableName);
    if (!tally) {
      tally = {
        readUnits: 0,
        writeUnits: 0,
        requests: 0,
        table: { readUnits: 0, writeUnits: 0 },
        indexes: new Map(),
      };
      this.tables.set(tableName, tally);
    }
    return tally;
  }

  /** Adds one reported capacity; a figure without its read/write split goes by the call's kind. */
  private add(consumed: ConsumedCapacity, read: boolean): void {
    if (!consumed.TableName) return;
    const tally = this.of(consumed.TableName);
    const addTo = (units: Units, c: Capacity | ConsumedCapacity) => {
      if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
        units.readUnits += c.ReadCapacityUnits ?? 0;
        units.writeUnits += c.WriteCapacityUnits ?? 0;
      } else if (read) units.readUnits += c.CapacityUnits ?? 0;
      else units.writeUnits += c.CapacityUnits ?? 0;
    };
    addTo(tally, consumed);
    if (consumed.Table) addTo(tally.table, consumed.Table);
    const indexes = { ...consumed.GlobalSecondaryIndexes, ...consumed.LocalSecondaryIndexes };
    for (const [name, c] of Object.entries(indexes)) {
      const units = tally.indexes.get(name) ?? { readUnits: 0, writeUnits: 0 };
      addTo(units, c);
      tally.indexes.set(name, units);
    }
  }

  /** A copy of one table's totals (zero for a table never called). */
  tally(tableName: string): CapacityTally {
    const { readUnits, writeUnits, requests } = this.of(tableName);
    return { readUnits, writeUnits, requests };
  }

  /** One table's units split into the base table's and each index's. */
  split(tableName: string): { table: Units; indexes: Record<string, Units> } {
    const tally = this.of(tableName);
    return {
      table: { ...tally.table },
      indexes: Object.fromEntries([...tally.indexes].map(([name, units]) => [name, { ...units }])),
    };
  }

  /** Sets one table's tally back to zero. */
  reset(tableName: string): void {
    this.tables.delete(tableName);
  }
}

export function diff(after: CapacityTally, before: CapacityTally): CapacityTally {
  return {
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
    requests: after.requests - before.requests,
  };
}

/**
 * Capacity per store method: wraps a store so that every call adds its table's change during the
 * call to its method's bucket. Exact when calls of different methods do not overlap in time (the
 * cost section runs everything one at a time).
 */
export class MethodMeter {
  readonly byMethod = new Map<string, CapacityTally>();

  constructor(
    private readonly meter: CapacityMeter,
    private readonly tableName: string,
  ) {}

  reset(): void {
    this.byMethod.clear();
  }

  get(method: string): CapacityTally {
    return this.byMethod.get(method) ?? { readUnits: 0, writeUnits: 0, requests: 0 };
  }

  /** The same store, metered. */
  wrap<S extends DynamoTaskStore>(store: S): S {
    const { meter, tableName } = this;
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return async (...args: unknown[]) => {
          const before = meter.tally(tableName);
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            const delta = diff(meter.tally(tableName), before);
            const bucket = this.get(property);
            this.byMethod.set(property, {
              readUnits: bucket.readUnits + delta.readUnits,
              writeUnits: bucket.writeUnits + delta.writeUnits,
              requests: bucket.requests + delta.requests,
            });
          }
        };
      },
    });
  }
}
