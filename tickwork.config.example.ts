/**
 * Example `tickwork.config.ts`: copy it to `tickwork.config.ts` (next to package.json) and point
 * it at your handler modules. `tickwork dev` (`npm start`) then registers these task types and
 * runs their handlers in local Lambda-like workers; without a config it serves the demo types.
 *
 * Each entry: `handler` (module path, relative to this file; TypeScript works), `export` (the
 * Lambda handler export, default `handler`), `timeoutSeconds` (Lambda-like timeout of one
 * invocation, default 300), `description`, and `task` (the export made with `defineTask`, only
 * needed when Java is missing and the runtime keeps its store in memory).
 */
import { defineConfig } from './src/local/config.js';

export default defineConfig({
  types: {
    'demo.echo': { handler: './functions/examples/demo.ts', task: 'echo', timeoutSeconds: 60 },
    'demo.work': {
      handler: './functions/examples/demo.ts',
      task: 'work',
      timeoutSeconds: 900,
      description: 'Works in steps with progress; stops when cancelled',
    },
    'demo.fail': { handler: './functions/examples/demo.ts', task: 'fail', timeoutSeconds: 60 },
    // 'Acme.CleanupFiles': { handler: './functions/acme/cleanup.ts', timeoutSeconds: 120 },
  },
});
