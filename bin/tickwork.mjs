#!/usr/bin/env node
// The `tickwork` command. Installed from the package, it runs the compiled JavaScript (dist/);
// in a checkout of the repository (sources present) it runs the TypeScript through tsx, so a
// stale build never hides an edit.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
