/** Runs the CLI in-process against an API, capturing what it prints. */
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** A `cli(...argv)` bound to the API at `baseUrl()` (read at each call, once the API is up). */
export function cliAgainst(baseUrl: () => string): (...argv: string[]) => Promise<CliRun> {
  return async (...argv) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([...argv, '--endpoint', baseUrl()], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      env: {},
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
}
