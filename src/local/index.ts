/**
 * `tickwork/dev`: what a `tickwork.config.ts` imports. See `docs/writing-tasks.md`.
 *
 * @example
 * import { defineConfig } from 'tickwork/dev';
 * export default defineConfig({ functions: { reports: { handler: './src/reports.ts' } } });
 */
export { defineConfig, type FunctionConfig, type TickworkConfig } from './config.js';
