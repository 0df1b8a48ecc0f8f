/**
 * How a task function is built, for the consumer's own `NodejsFunction`s: Node.js 22 on arm64,
 * bundled as ESM by the esbuild installed from npm (never Docker), with the AWS SDK bundled at
 * the versions the project pins rather than whatever the runtime happens to ship. The same
 * options build Tickwork's own bundles (`scripts/build-lambdas.ts`).
 */
import { fileURLToPath } from 'node:url';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The repository root: where `package-lock.json` and `functions/` live (this repository's own app). */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of a file of this repository, e.g. `repoPath('functions/examples/demo.ts')`. */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/**
 * esbuild's ESM output keeps CommonJS dependencies' `require` calls; in an ES module `require`
 * does not exist, so they would fail at cold start ("Dynamic require of ... is not supported").
 * The banner gives the bundle a real `require`. The alias keeps the name from clashing with a
 * bundled module's own `createRequire` import.
 */
export const esmRequireBanner =
  "import { createRequire as __tickworkCreateRequire } from 'node:module'; const require = __tickworkCreateRequire(import.meta.url);";

/** Bundling of every Tickwork function (and the demo's): local esbuild, ESM, minified with source maps. */
export const tickworkBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: esmRequireBanner,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Bundle the pinned SDK: the runtime's copy may be older than what the store relies on.
  externalModules: [],
  forceDockerBundling: false,
};

/** Runtime variables that are not configuration (so no schema parses them). */
export const runtimeEnvironment = {
  /** Stack traces point at the TypeScript sources (the bundle ships source maps). */
  NODE_OPTIONS: '--enable-source-maps',
} as const;

/**
 * Props for a task function's `NodejsFunction`; spread them and add `entry`, `timeout`. They
 * leave `projectRoot` and `depsLockFilePath` to `NodejsFunction`, which finds your lock file from
 * the working directory (give them yourself in a monorepo): nothing points into the installed
 * `tickwork` package.
 *
 * @example
 * new NodejsFunction(this, 'Report', {
 *   ...tickworkFunctionDefaults,
 *   entry: 'functions/report.ts',
 *   timeout: Duration.minutes(5),
 * });
 */
export const tickworkFunctionDefaults = {
  runtime: Runtime.NODEJS_22_X,
  architecture: Architecture.ARM_64,
  memorySize: 512,
  bundling: tickworkBundling,
} satisfies NodejsFunctionProps;
