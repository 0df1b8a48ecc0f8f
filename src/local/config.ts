/**
 * `tickwork.config.ts`: which handler modules the local runtime serves. Each module exports its
 * task map (the object it hands to `createTaskHandler`), and that map is where its task types are
 * declared: their names, descriptions and parameter schemas come from it, here as in the CDK
 * construct's `addTaskTypes`, so a type is never named twice.
 *
 * @example
 * // tickwork.config.ts
 * import { defineConfig } from 'tickwork/dev';
 * export default defineConfig({
 *   functions: {
 *     reports: { handler: './src/reports.ts', timeoutSeconds: 120 },
 *   },
 * });
 */
import { existsSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { JsonSchema } from '../core/model.js';
import type { TaskTypes } from '../task/define-task.js';
import { taskTypeManifest } from '../task/manifest.js';

/** One handler function of the config: a module that exports a Lambda handler and its task map. */
export interface FunctionConfig {
  /** Handler module, relative to the config file (TypeScript works: modules load through tsx). */
  handler: string;
  /** The module's export that is the Lambda handler. @default 'handler' */
  export?: string;
  /** The module's export holding the task map given to `createTaskHandler`. @default 'tasks' */
  tasksExport?: string;
  /** Lambda-like timeout of one invocation, in seconds (1-900). @default 300 */
  timeoutSeconds?: number;
}

/** What `tickwork.config.ts` exports by default. */
export interface TickworkConfig {
  /** Handler functions by local function name (letters, digits, `-`, `_`; at most 64). */
  functions: Record<string, FunctionConfig>;
}

/** Types a config (nothing else); for editor help in `tickwork.config.ts`. */
export function defineConfig(config: TickworkConfig): TickworkConfig {
  return config;
}

const exportName = z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be a JavaScript identifier');
const configSchema = z
  .object({
    functions: z.record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'function names are 1-64 letters, digits, - or _'),
      z
        .object({
          handler: z.string().min(1),
          export: exportName.optional(),
          tasksExport: exportName.optional(),
          timeoutSeconds: z.number().int().min(1).max(900).optional(),
        })
        .strict(),
    ),
  })
  .strict();

/** Default timeout of a function that names none, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 300;

/** A task type as the local runtime registers it. */
export interface LocalTaskType {
  name: string;
  functionName: string;
  timeoutSeconds: number;
  description?: string;
  parametersSchema?: JsonSchema;
}

/** A local Lambda function: one export of one module, serving the types of its task map. */
export interface LocalFunction {
  name: string;
  /** Absolute path of the handler module. */
  modulePath: string;
  exportName: string;
  /** The module export holding the task map (the in-memory mode builds the handler from it). */
  tasksExport: string;
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

/** The bundled demo handler module: `functions/examples/demo.ts`, or its build beside this one. */
export const demoModulePath = fileURLToPath(
  new URL(`../../functions/examples/demo${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** The bundled demo types (`demo.echo`, `demo.work`, `demo.fail`), served by one function. */
export const demoConfig: TickworkConfig = {
  functions: { 'tickwork-demo': { handler: demoModulePath, timeoutSeconds: 900 } },
};

/** Thrown for a config that cannot be used; the message says what to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Imports a module (TypeScript included) and returns its exports. */
export type ModuleLoader = (path: string) => Promise<Record<string, unknown>>;

/** Loads modules through tsx, so TypeScript works whether or not the runtime runs under tsx. */
export const tsxLoader: ModuleLoader = async (path) => {
  const { tsImport } = await import('tsx/esm/api');
  const loaded = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  // A module outside an ESM package loads as CommonJS: its exports also sit on `default`.
  const nested = loaded.default;
  return nested && typeof nested === 'object'
    ? { ...(nested as Record<string, unknown>), ...loaded }
    : loaded;
};

function isTaskMap(value: unknown): value is TaskTypes {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(
    (entry) =>
      typeof entry === 'function' ||
      (typeof entry === 'object' && entry !== null && (entry as { kind?: unknown }).kind === 'tickwork.task'),
  );
}

/** Reads one function's task map from its module and derives its types. */
async function resolveFunction(
  name: string,
  entry: FunctionConfig,
  baseDir: string,
  source: string,
  load: ModuleLoader,
): Promise<LocalFunction> {
  const modulePath = isAbsolute(entry.handler) ? entry.handler : resolve(baseDir, entry.handler);
  if (!existsSync(modulePath)) {
    throw new ConfigError(`${source}: function ${name}: handler module ${modulePath} does not exist`);
  }
  let module: Record<string, unknown>;
  try {
    module = await load(modulePath);
  } catch (error) {
    throw new ConfigError(
      `${source}: function ${name}: ${modulePath} could not be loaded: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const tasksExport = entry.tasksExport ?? 'tasks';
  const tasks = module[tasksExport];
  if (!isTaskMap(tasks) || Object.keys(tasks).length === 0) {
    throw new ConfigError(
      `${source}: function ${name}: ${modulePath} has no task map export "${tasksExport}" ` +
        `(export const ${tasksExport} = { 'Acme.Report': defineTask({ ... }) }, the object given to createTaskHandler)`,
    );
  }
  const handlerExport = entry.export ?? 'handler';
  if (typeof module[handlerExport] !== 'function') {
    throw new ConfigError(
      `${source}: function ${name}: ${modulePath} has no function export "${handlerExport}"`,
    );
  }
  const timeoutSeconds = entry.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  let manifest: ReturnType<typeof taskTypeManifest>;
  try {
    manifest = taskTypeManifest(tasks);
  } catch (error) {
    throw new ConfigError(`${source}: function ${name}: ${(error as Error).message}`, { cause: error });
  }
  const types = manifest.map((type) => ({ ...type, functionName: name, timeoutSeconds }));
  return { name, modulePath, exportName: handlerExport, tasksExport, timeoutSeconds, types };
}

/**
 * Resolves a config: checks its shape, loads each handler module and derives the task types
 * from its task map. Relative handler paths are read from `baseDir`.
 */
export async function resolveSetup(
  config: unknown,
  baseDir: string,
  source: string,
  load: ModuleLoader = tsxLoader,
): Promise<LocalSetup> {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`${source}: ${issues.join('; ')}`);
  }
  const functions: LocalFunction[] = [];
  const owner = new Map<string, string>();
  for (const [name, entry] of Object.entries(parsed.data.functions)) {
    const fn = await resolveFunction(name, entry, baseDir, source, load);
    for (const type of fn.types) {
      const other = owner.get(type.name);
      if (other)
        throw new ConfigError(`${source}: task type ${type.name} is served by both ${other} and ${name}`);
      owner.set(type.name, name);
    }
    functions.push(fn);
  }
  if (functions.length === 0) throw new ConfigError(`${source}: no functions`);
  return { source, functions, types: functions.flatMap((fn) => fn.types), demo: false };
}

/** The bundled demo setup. */
export async function demoSetup(load: ModuleLoader = tsxLoader): Promise<LocalSetup> {
  return {
    ...(await resolveSetup(demoConfig, dirname(demoModulePath), 'bundled demo types', load)),
    demo: true,
  };
}

/**
 * Loads the setup: from `configPath` when given, else from a `tickwork.config.ts` (or `.mts`,
 * `.js`, `.mjs`) in `cwd`, else the bundled demo types.
 */
export async function loadLocalSetup(
  options: { configPath?: string; cwd?: string; load?: ModuleLoader } = {},
): Promise<LocalSetup> {
  const cwd = options.cwd ?? process.cwd();
  const load = options.load ?? tsxLoader;
  const path = options.configPath
    ? resolve(cwd, options.configPath)
    : configFileNames.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate));
  if (!path) return demoSetup(load);
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  let loaded: Record<string, unknown>;
  try {
    loaded = await load(path);
  } catch (error) {
    throw new ConfigError(`${path}: could not be loaded: ${(error as Error).message}`, { cause: error });
  }
  let config: unknown = loaded.default ?? loaded;
  // A CommonJS config's `export default` is one level deeper still.
  const inner = (config as { default?: unknown }).default;
  if (inner && typeof inner === 'object' && !('functions' in (config as object))) config = inner;
  return resolveSetup(config, dirname(path), path, load);
}
