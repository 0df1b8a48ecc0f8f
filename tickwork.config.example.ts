/**
 * Example `tickwork.config.ts`: copy it to `tickwork.config.ts` (next to package.json) and point
 * it at your handler modules. `tickwork dev` (`npm start`) then serves them in local Lambda-like
 * workers; without a config it serves the bundled demo types.
 *
 * Each function names a handler module (relative to this file; TypeScript works). The module
 * exports its task map (`export const tasks = { 'Acme.Report': defineTask({ ... }) }`, the object
 * it gives to `createTaskHandler`): the task types, their descriptions and parameter schemas come
 * from there, so a type is named in one place. Options: `export` (the Lambda handler export,
 * default `handler`), `tasksExport` (default `tasks`), `timeoutSeconds` (Lambda-like timeout of
 * one invocation, default 300).
 *
 * In an app that installed the package, import from 'tickwork/dev' instead.
 */
import { defineConfig } from './src/local/index.js';

export default defineConfig({
  functions: {
    'tickwork-demo': { handler: './functions/examples/demo.ts', timeoutSeconds: 900 },
    // reports: { handler: './functions/acme/reports.ts', timeoutSeconds: 120 },
  },
});
