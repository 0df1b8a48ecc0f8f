/**
 * Bundles Tickwork's own functions (the tick and the API) into `dist/lambda/<name>/index.mjs`,
 * which the `Tickwork` construct deploys as they are: a consumer's `cdk synth` builds nothing of
 * Tickwork's and needs neither its sources nor esbuild.
 *
 * `npm run build:lambdas` (run by `presynth` and by the test suite's global setup). Each bundle is
 * an ES module for Node.js 22 with the AWS SDK inside (the versions this package pins, not the
 * runtime's), minified, with a source map and esbuild's metafile beside it (`meta.json`: what went
 * in, for size checks).
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esmRequireBanner } from '../infra/function-defaults.js';
import {
  type LambdaBundleName,
  lambdaBundleDir,
  lambdaBundleNames,
  packageRoot,
} from '../src/package-root.js';

export interface BuildLambdasOptions {
  /** Where the package's sources are. @default the package root found from this file */
  readonly root?: string;
  /** Where the bundles go, one directory each. @default `<root>/dist/lambda` */
  readonly outDir?: string;
  /** Which bundles. @default every one: tick and API */
  readonly names?: readonly LambdaBundleName[];
}

/** One built bundle. */
export interface BuiltLambda {
  readonly name: LambdaBundleName;
  /** The directory deployed as the function's code. */
  readonly dir: string;
  /** `<dir>/index.mjs`. */
  readonly entry: string;
  /** `<dir>/meta.json`, esbuild's metafile. */
  readonly metafile: string;
}

/**
 * Builds the bundles, replacing what was there.
 *
 * @example
 * const [tick] = await buildLambdas({ names: ['tick'] });
 * // tick.entry === '<root>/dist/lambda/tick/index.mjs'
 */
export async function buildLambdas(options: BuildLambdasOptions = {}): Promise<BuiltLambda[]> {
  const root = options.root ?? packageRoot(import.meta.url);
  const names = options.names ?? lambdaBundleNames;
  return Promise.all(
    names.map((name) =>
      buildOne(root, name, options.outDir ? join(options.outDir, name) : lambdaBundleDir(name, root)),
    ),
  );
}

async function buildOne(root: string, name: LambdaBundleName, dir: string): Promise<BuiltLambda> {
  const entry = join(dir, 'index.mjs');
  const metafile = join(dir, 'meta.json');
  const result = await build({
    entryPoints: [join(root, 'functions', `${name}.ts`)],
    outfile: entry,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: esmRequireBanner },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  await mkdir(dir, { recursive: true });
  const files = [
    ...result.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
    { path: metafile, contents: JSON.stringify(result.metafile) },
  ];
  // Each file is replaced by a rename, so a synth reading the directory meanwhile (a test run
  // beside `cdk watch`) sees the old file or the new one, never a half-written one.
  // The temporary name is per process: two builds at once never write the same file.
  for (const file of files) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    await writeFile(temporary, file.contents);
    await rename(temporary, file.path);
  }
  // Anything else there (an older layout's file) would ship inside the asset; another build's
  // temporary files are its own (the construct leaves `*.tmp` out of the asset).
  const keep = new Set(files.map((file) => basename(file.path)));
  for (const stray of await readdir(dir)) {
    if (!keep.has(stray) && !stray.endsWith('.tmp'))
      await rm(join(dir, stray), { recursive: true, force: true });
  }
  return { name, dir, entry, metafile };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const built = await buildLambdas();
  // stderr: under `cdk synth` the app's stdout is not a place for progress.
  for (const lambda of built) console.error(`built ${lambda.entry}`);
}
