/**
 * Where the package's prebuilt Lambda bundles live: `dist/lambda/<name>/index.mjs` under the
 * package root. The CDK construct deploys those directories as they are, and `tickwork dev` runs
 * the same files, so a local run exercises the deployed artifact.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions Tickwork ships prebuilt. */
export type BundledFunction = 'tick' | 'api';

let root: string | undefined;

/**
 * The root of the `tickwork` package: the nearest folder above this module whose `package.json`
 * is named `tickwork` (the repository in a checkout, `node_modules/tickwork` once installed).
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tickwork'
    ) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no tickwork package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The directory of a prebuilt bundle (what the construct deploys as the function's code). */
export function lambdaBundleDir(name: BundledFunction): string {
  return join(packageRoot(), 'dist', 'lambda', name);
}

/**
 * The bundle's entry file, checked to exist.
 *
 * @throws Error saying how to build it when it is missing (a checkout that was never built).
 */
export function lambdaBundleFile(name: BundledFunction): string {
  const file = join(lambdaBundleDir(name), 'index.mjs');
  if (!existsSync(file)) {
    throw new Error(
      `Tickwork: the ${name} bundle ${file} is missing; run \`npm run build:lambdas\` in the tickwork repository`,
    );
  }
  return file;
}
