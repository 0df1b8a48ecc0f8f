/**
 * `tickwork dev` runs the tick and the API from the same prebuilt bundles the CDK construct
 * deploys (`dist/lambda/{tick,api}/index.mjs`), so a local run exercises the deployed artifact:
 * the bundles read their environment at import, as on a Lambda cold start, and build their own
 * store and clients; the SDK's endpoint variables point those at DynamoDB Local and the local
 * Invoke endpoint.
 */
import { pathToFileURL } from 'node:url';
import type { ApiDeps } from '../api/deps.js';
import { lambdaBundleEntry } from '../package-root.js';
import type { TickReport } from '../tick/run-tick.js';

/** The tick bundle's handler, as EventBridge Scheduler would call it. */
export type TickHandler = (
  event: unknown,
  context: { getRemainingTimeInMillis(): number },
) => Promise<TickReport>;

/** What the API bundle exports for local serving (`functions/api.ts`). */
export type LocalApp = (
  local: Pick<ApiDeps, 'scheduler' | 'logs' | 'logger' | 'minIntervalMs' | 'tickPlanner'>,
) => {
  fetch: (request: Request) => Response | Promise<Response>;
};

export interface BundledFunctions {
  tick: TickHandler;
  localApp: LocalApp;
  /** The bundles' entry files, for the start banner. */
  files: { tick: string; api: string };
}

/**
 * Sets the functions' environment (as the construct sets it on AWS) and imports both bundles.
 * Their Powertools loggers keep to warnings and errors, and their metrics stay off: the runtime
 * prints its own tick lines, and there is no CloudWatch to read the metrics.
 */
export async function loadBundledFunctions(env: Record<string, string>): Promise<BundledFunctions> {
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...env,
  });
  const files = { tick: lambdaBundleEntry('tick'), api: lambdaBundleEntry('api') };
  const [tick, api] = await Promise.all([
    import(pathToFileURL(files.tick).href) as Promise<{ handler?: unknown }>,
    import(pathToFileURL(files.api).href) as Promise<{ localApp?: unknown }>,
  ]);
  if (typeof tick.handler !== 'function' || typeof api.localApp !== 'function') {
    throw new Error(
      `Tickwork: ${files.tick} or ${files.api} is not a Tickwork bundle; run npm run build:lambdas`,
    );
  }
  return { tick: tick.handler as TickHandler, localApp: api.localApp as LocalApp, files };
}
