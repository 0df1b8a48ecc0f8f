/**
 * The loopback launcher of DynamoDB Local: `src/local/java/LoopbackDynamoDbLocal.java`, a class
 * that starts the engine with its one connector bound to 127.0.0.1 (the jar's own entry point has
 * no bind option and listens on every interface).
 *
 * The package ships the compiled class (`dist/java`, written by `npm run build:java`); a checkout
 * compiles it on first use when `javac` is there. Without either, the engine starts from its own
 * entry point and the caller is told that it listens on every interface.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

/** The launcher's class name, and its source and class file names. */
export const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';

/** Where the launcher's source and compiled class live under the package root. */
export function launcherPaths(root: string = packageRoot()): {
  source: string;
  classDir: string;
  classFile: string;
} {
  const classDir = join(root, 'dist', 'java');
  return {
    source: join(root, 'src', 'local', 'java', `${LAUNCHER_CLASS}.java`),
    classDir,
    classFile: join(classDir, `${LAUNCHER_CLASS}.class`),
  };
}

/** The outcome of {@link ensureLauncher}: the class directory, or why there is none. */
export type LauncherResult = { classDir: string } | { classDir?: undefined; reason: string };

/**
 * The directory holding the compiled launcher, compiling it first when the source is newer than
 * the class (or the class is missing) and `javac` can. Compiles into a fresh directory and renames
 * the class into place, so concurrent starts never load a half-written file.
 */
export function ensureLauncher(engineDir: string, root: string = packageRoot()): LauncherResult {
  const { source, classDir, classFile } = launcherPaths(root);
  const hasClass = existsSync(classFile);
  const hasSource = existsSync(source);
  if (hasClass && (!hasSource || statSync(classFile).mtimeMs >= statSync(source).mtimeMs))
    return { classDir };
  if (!hasSource) return { reason: `neither ${classFile} nor its source is in the package` };
  mkdirSync(classDir, { recursive: true });
  const scratch = mkdtempSync(join(classDir, '.compile-'));
  try {
    const compiled = spawnSync(
      'javac',
      ['-cp', engineClassPath(engineDir), '-d', scratch, '-nowarn', '-Xlint:none', source],
      { encoding: 'utf8' },
    );
    if (compiled.error) {
      return hasClass
        ? { classDir }
        : { reason: `javac is not installed (a JDK is needed to compile ${LAUNCHER_CLASS}.java)` };
    }
    if (compiled.status !== 0) {
      return hasClass ? { classDir } : { reason: `javac failed: ${compiled.stderr.trim().slice(0, 500)}` };
    }
    renameSync(join(scratch, `${LAUNCHER_CLASS}.class`), classFile);
    return { classDir };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The engine's class path, relative to its folder when `engineDir` is `.`. */
export function engineClassPath(engineDir: string): string {
  return [join(engineDir, 'DynamoDBLocal.jar'), join(engineDir, 'DynamoDBLocal_lib', '*')].join(':');
}
