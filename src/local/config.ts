/**
 * `tickwork.config.ts`: which task types the local runtime serves and where their handlers are.
 *
 * @example
 * // tickwork.config.ts
 * import { defineConfig } from './src/local/config.js';
 * export default defineConfig({
 *   types: {
 *     'Acme.CleanupFiles': { handler: './functions/cleanup.ts', timeoutSeconds: 120 },
 *   },
 * });
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';

/** One task type of the config. */
export interface TaskTypeConfig {
  /** Handler module, relative to the config file (`.ts` works: modules load through tsx). */
  handler: string;
  /** The module's export that is the Lambda handler; `handler` by default. */
  export?: string;
  /** Lambda-like timeout of one invocation of this type; 300 by default. */
  timeoutSeconds?: number;
  description?: string;
  /** Name of the local Lambda function; derived from the module's file name when absent. */
  functionName?: string;
  /**
   * The module's export that defines this type (`defineTask(...)`). Only needed without Java
   * (in-memory store): the runtime then builds the handler itself with `createTaskHandler`.
   */
  task?: string;
}

/** What `tickwork.config.ts` exports by default. */
export interface TickworkConfig {
  types: Record<string, TaskTypeConfig>;
}

/** Types a config (nothing else); for editor help in `tickwork.config.ts`. */
export function defineConfig(config: TickworkConfig): TickworkConfig {
  return config;
}

const configSchema = z.object({
  types: z.record(
    z.string().min(1).max(128),
    z.object({
      handler: z.string().min(1),
      export: z
        .string()
        .regex(/^[A-Za-z_$][\w$]*$/)
        .optional(),
      timeoutSeconds: z.number().int().min(1).max(900).optional(),
      description: z.string().max(1024).optional(),
      functionName: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/)
        .optional(),
      task: z
        .string()
        .regex(/^[A-Za-z_$][\w$]*$/)
        .optional(),
    }),
  ),
});

/** Default timeout of a type that names none, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 300;

/** A task type as the local runtime registers it. */
export interface LocalTaskType {
  name: string;
  functionName: string;
  timeoutSeconds: number;
  description?: string;
  /** The module export defining the type, when the config names it ({@link TaskTypeConfig.task}). */
  taskExport?: string;
}

/** A local Lambda function: one export of one module, serving one or more task types. */
export interface LocalFunction {
  name: string;
  /** Absolute path of the handler module. */
  modulePath: string;
  exportName: string;
  /** The longest timeout of its types: the function's own timeout. */
  timeoutSeconds: number;
  types: LocalTaskType[];
}

/** Everything the runtime serves, and where it came from (for the start banner). */
export interface LocalSetup {
  source: string;
  functions: LocalFunction[];
  types: LocalTaskType[];
  /** True when these are the bundled demo types. */
  demo: boolean;
}

/** Config files looked for in the working directory, in order. */
export const configFileNames = [
  'tickwork.config.ts',
  'tickwork.config.mts',
  'tickwork.config.js',
  'tickwork.config.mjs',
];

/** The bundled demo handler module (`functions/examples/demo.ts`). */
export const demoModulePath = fileURLToPath(new URL('../../functions/examples/demo.ts', import.meta.url));

/** The bundled demo types: `demo.echo`, `demo.work`, `demo.fail`, served by one function. */
export const demoConfig: TickworkConfig = {
  types: {
    'demo.echo': {
      handler: demoModulePath,
      functionName: 'tickwork-demo',
      task: 'echo',
      timeoutSeconds: 60,
      description: 'Succeeds at once; its result is the JSON of its parameters.',
    },
    'demo.work': {
      handler: demoModulePath,
      functionName: 'tickwork-demo',
      task: 'work',
      timeoutSeconds: 900,
      description:
        'Works through `steps` (default 10) steps of `stepMs` (default 500) ms, reporting progress; `failAt` throws at that step.',
    },
    'demo.fail': {
      handler: demoModulePath,
      functionName: 'tickwork-demo',
      task: 'fail',
      timeoutSeconds: 60,
      description: 'Always throws Error("demo failure").',
    },
  },
};

/** Thrown for a config that cannot be used; the message says what to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function defaultFunctionName(modulePath: string, exportName: string): string {
  const stem = basename(modulePath, extname(modulePath)).replace(/[^A-Za-z0-9_-]/g, '-');
  const name = exportName === 'handler' ? stem : `${stem}-${exportName}`;
  return name.slice(0, 64) || 'handler';
}

/**
 * Groups a config's types into functions (one per module and export). Relative handler paths
 * are read from `baseDir`.
 */
export function resolveSetup(config: unknown, baseDir: string, source: string): LocalSetup {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`${source}: ${issues.join('; ')}`);
  }
  const byKey = new Map<string, LocalFunction>();
  const usedNames = new Map<string, string>();
  const types: LocalTaskType[] = [];
  for (const [typeName, entry] of Object.entries(parsed.data.types)) {
    const modulePath = isAbsolute(entry.handler) ? entry.handler : resolve(baseDir, entry.handler);
    if (!existsSync(modulePath)) {
      throw new ConfigError(`${source}: type ${typeName}: handler module ${modulePath} does not exist`);
    }
    const exportName = entry.export ?? 'handler';
    const key = `${modulePath}#${exportName}`;
    let fn = byKey.get(key);
    if (!fn) {
      let name = entry.functionName ?? defaultFunctionName(modulePath, exportName);
      if (usedNames.has(name) && usedNames.get(name) !== key) {
        if (entry.functionName) {
          throw new ConfigError(`${source}: function name ${name} is used for two different handlers`);
        }
        let n = 2;
        while (usedNames.has(`${name}-${n}`)) n++;
        name = `${name}-${n}`;
      }
      usedNames.set(name, key);
      fn = { name, modulePath, exportName, timeoutSeconds: 0, types: [] };
      byKey.set(key, fn);
    } else if (entry.functionName && entry.functionName !== fn.name) {
      throw new ConfigError(
        `${source}: type ${typeName} names function ${entry.functionName}, but its handler is ${fn.name}`,
      );
    }
    const type: LocalTaskType = {
      name: typeName,
      functionName: fn.name,
      timeoutSeconds: entry.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      ...(entry.description !== undefined ? { description: entry.description } : {}),
      ...(entry.task !== undefined ? { taskExport: entry.task } : {}),
    };
    fn.types.push(type);
    fn.timeoutSeconds = Math.max(fn.timeoutSeconds, type.timeoutSeconds);
    types.push(type);
  }
  if (types.length === 0) throw new ConfigError(`${source}: no task types`);
  return { source, functions: [...byKey.values()], types, demo: false };
}

/** The bundled demo setup. */
export function demoSetup(): LocalSetup {
  return { ...resolveSetup(demoConfig, dirname(demoModulePath), 'bundled demo types'), demo: true };
}

/**
 * Loads the setup: from `configPath` when given, else from a `tickwork.config.ts` (or `.mts`,
 * `.js`, `.mjs`) in `cwd`, else the bundled demo types. Config modules load through tsx, so
 * TypeScript works whether or not the runtime itself runs under tsx.
 */
export async function loadLocalSetup(
  options: { configPath?: string; cwd?: string } = {},
): Promise<LocalSetup> {
  const cwd = options.cwd ?? process.cwd();
  const path = options.configPath
    ? resolve(cwd, options.configPath)
    : configFileNames.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate));
  if (!path) return demoSetup();
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  const { tsImport } = await import('tsx/esm/api');
  let loaded: { default?: unknown };
  try {
    loaded = (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
  } catch (error) {
    throw new ConfigError(`${path}: could not be loaded: ${(error as Error).message}`, { cause: error });
  }
  // A config outside an ESM package loads as CommonJS: its default export is one level deeper.
  let config: unknown = loaded.default ?? loaded;
  const nested = (config as { default?: unknown } | null)?.default;
  if (nested && typeof nested === 'object' && !('types' in (config as object))) config = nested;
  return resolveSetup(config, dirname(path), path);
}
