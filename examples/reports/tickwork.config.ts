/** `npx tickwork dev` serves the handler module; its task map names the types. */
import { defineConfig } from 'tickwork/dev';

export default defineConfig({
  functions: {
    reports: { handler: './src/handler.ts', timeoutSeconds: 120 },
  },
});
