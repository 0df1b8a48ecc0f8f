/** The functions' Lambda `environment`, built from the types of their zod schemas. */
import { runtimeEnvironment } from './function-defaults.js';

/**
 * A Lambda `environment` from a typed one: values as strings, absent optional values dropped.
 * The parameter's type is the schema's input type, so a variable the function requires cannot
 * be forgotten.
 */
export function lambdaEnvironment(env: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new Error(`Tickwork: environment variable ${key} must be a string, number or boolean`);
    }
    out[key] = String(value);
  }
  return { ...out, ...runtimeEnvironment };
}
