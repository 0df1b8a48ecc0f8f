/**
 * `--breakdown`: an HTTP relay between `tickwork dev` and DynamoDB Local that counts the engine's
 * requests by operation (`X-Amz-Target`), and the statements of each PartiQL batch. It forwards
 * bytes unchanged; its own CPU is in the bench process's share of the tree.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestMeter {
  /** Where `tickwork dev` should send its DynamoDB requests. */
  endpoint: string;
  /** Requests so far by operation; `BatchExecuteStatement.statements` counts the statements. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

export async function startRequestMeter(upstream: string): Promise<RequestMeter> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const counts: Record<string, number> = {};
  const add = (key: string, by = 1) => {
    counts[key] = (counts[key] ?? 0) + by;
  };
  const server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? 'unknown')
      .split('.')
      .pop() as string;
    add(operation);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (operation === 'BatchExecuteStatement' || operation === 'BatchGetItem') {
        // Statements of a batch, or keys of a batch read: each one is an item the engine handles.
        const marker = operation === 'BatchExecuteStatement' ? '"Statement":' : '{"pk":{';
        add(`${operation}.items`, body.toString('utf8').split(marker).length - 1);
      }
      const forward = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
