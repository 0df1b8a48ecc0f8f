/**
 * Bounded polling for integration tests: wait until something observable is true, or fail with
 * what was last seen. Never an open-ended sleep.
 */

/**
 * Calls `probe` every `intervalMs` until it returns a value other than `undefined`, `null` or
 * `false`, and returns that value; throws after `timeoutMs` with `what` and the last error.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs: number,
  options: { intervalMs?: number; what?: string } = {},
): Promise<Exclude<T, undefined | null | false>> {
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false)
        return value as Exclude<T, undefined | null | false>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A promise with its resolver, for tests that hold a task body until they release it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
