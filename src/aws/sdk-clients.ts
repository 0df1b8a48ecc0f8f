/**
 * AWS SDK clients as the functions build them.
 *
 * The SDK's logger middleware runs on every call even when no logger is configured: it builds
 * the log entry, filtering the whole request and response for sensitive fields, before handing
 * it to a logger that drops it. For the tick that means walking every 25-statement batch and every
 * Query page it sends or reads: 3.8% of a 1,000-due tick's CPU in a profile. Tickwork logs with
 * Powertools and never gives the SDK a logger, so the functions' clients go without it.
 */

/** The part of an SDK v3 client this needs. */
interface WithMiddlewareStack {
  middlewareStack: { remove(toRemove: string): boolean };
}

/** Removes the SDK's (unused) logger middleware from `client` and returns it. */
export function withoutSdkLogging<C extends WithMiddlewareStack>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
