/**
 * Tickwork's own functions (the tick, the API), deployed from the bundles `npm run build:lambdas`
 * wrote under the package (`dist/lambda/<name>`): synth bundles nothing, so it needs neither
 * Tickwork's sources nor esbuild, and works the same from the repository and from `node_modules`.
 */
import { dirname } from 'node:path';
import {
  Architecture,
  Code,
  type FunctionProps,
  Function as LambdaFunction,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { type LambdaBundleName, lambdaBundleEntry, packageRoot } from '../src/package-root.js';

/** What the caller sets; code, handler, runtime and architecture come from the bundle. */
export type BundledFunctionProps = Omit<FunctionProps, 'code' | 'handler' | 'runtime' | 'architecture'>;

/**
 * The code of one prebuilt bundle.
 *
 * @throws Error at synth when the bundle was not built.
 */
export function bundleCode(name: LambdaBundleName, root: string = packageRoot()): Code {
  const dir = dirname(lambdaBundleEntry(name, root));
  // The metafile is for size checks at build time (and `*.tmp` a build in progress); the function
  // needs the module and its map.
  return Code.fromAsset(dir, { exclude: ['meta.json', '*.tmp'] });
}

/** A Node.js 22 arm64 function running `index.handler` of a prebuilt bundle. */
export function bundledFunction(
  scope: Construct,
  id: string,
  name: LambdaBundleName,
  props: BundledFunctionProps,
): LambdaFunction {
  return new LambdaFunction(scope, id, {
    memorySize: 512,
    ...props,
    code: bundleCode(name),
    handler: 'index.handler',
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
  });
}
