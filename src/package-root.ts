/**
 * Where the `tickwork` package lives on disk, found from this file: the repository root when the
 * construct or the local runtime run from the sources, the installed package
 * (`node_modules/tickwork`) when they run compiled from `dist/`. The prebuilt Lambda bundles are
 * under it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's `name` in its `package.json`. */
export const PACKAGE_NAME = 'tickwork';

/** The Tickwork functions shipped as prebuilt bundles (`npm run build:lambdas`). */
export const lambdaBundleNames = ['tick', 'api'] as const;
export type LambdaBundleName = (typeof lambdaBundleNames)[number];

/**
 * The nearest directory at or above `from` whose `package.json` is named `tickwork`.
 *
 * @throws Error when there is none (the file was copied out of its package).
 */
export function packageRoot(from: string | URL = import.meta.url): string {
  const start = typeof from === 'string' && !from.startsWith('file:') ? from : fileURLToPath(from);
  let dir = dirname(start);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && packageNameOf(manifest) === PACKAGE_NAME) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Tickwork: no package.json named "${PACKAGE_NAME}" above ${start}`);
    dir = parent;
  }
}

function packageNameOf(manifest: string): unknown {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  } catch {
    // An unreadable or malformed package.json is not ours: keep walking up.
    return undefined;
  }
}

/** The directory of one prebuilt bundle: `<package root>/dist/lambda/<name>`, holding `index.mjs`. */
export function lambdaBundleDir(name: LambdaBundleName, root: string = packageRoot()): string {
  return join(root, 'dist', 'lambda', name);
}

/**
 * The entry file of one prebuilt bundle (`index.mjs`), checked to exist: what the construct
 * deploys and what `tickwork dev` runs.
 *
 * @throws Error saying how to build it when it is missing (a checkout that was never built).
 */
export function lambdaBundleEntry(name: LambdaBundleName, root: string = packageRoot()): string {
  const entry = join(lambdaBundleDir(name, root), 'index.mjs');
  if (!existsSync(entry)) {
    throw new Error(
      `Tickwork: the ${name} bundle ${entry} is missing; run npm run build:lambdas (inside the tickwork repository)`,
    );
  }
  return entry;
}
