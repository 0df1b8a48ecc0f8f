/**
 * Local reload: `tickwork dev` watches the folders of its handler modules, and when a source file
 * changes it recycles the worker pools, so the next invocation imports the new code (a run going
 * on finishes on the code it started with). What a reload cannot change it says: the task types
 * and their parameter schemas are registered at start, so a changed config file or a new type
 * needs a restart.
 */
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { LocalSetup } from './config.js';
import type { FunctionPool } from './worker-pool.js';

/** Files whose change reloads handlers: sources and JSON, outside dependencies and build output. */
export function isHandlerSource(file: string): boolean {
  if (/(^|[\\/])(node_modules|\.tickwork|dist|cdk\.out|\.git)([\\/]|$)/.test(file)) return false;
  return /\.(ts|mts|cts|js|mjs|cjs|json)$/.test(file);
}

/**
 * Watches the handler modules' folders (recursively) and the config file; returns a function that
 * stops watching. Changes within `debounceMs` of each other make one reload.
 */
export function watchHandlers(
  setup: LocalSetup,
  pools: Map<string, FunctionPool>,
  print: (line: string) => void,
  options: { debounceMs?: number; cwd?: string } = {},
): () => void {
  const watchers: FSWatcher[] = [];
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    const files = [...changed].map((f) => relative(options.cwd ?? process.cwd(), f));
    changed.clear();
    for (const pool of pools.values()) pool.recycle();
    print(
      `${files.join(', ')} changed: handlers reloaded (new task types or parameter schemas need a restart)`,
    );
  };
  const dirs = new Set(
    setup.functions.map((fn) => dirname(fn.modulePath)).filter((dir) => !dir.includes('node_modules')),
  );
  for (const dir of dirs) {
    const watcher = watch(dir, { recursive: true }, (_event, name) => {
      if (!name || !isHandlerSource(name)) return;
      changed.add(join(dir, name));
      clearTimeout(timer);
      timer = setTimeout(reload, options.debounceMs ?? 300);
    });
    watcher.on('error', () => {}); // a folder removed while watched: nothing left to reload from
    watchers.push(watcher);
  }
  if (!setup.demo && existsSync(setup.source)) {
    const watcher = watch(setup.source, () => {
      print(`${setup.source} changed: restart tickwork dev to apply it`);
    });
    watcher.on('error', () => {});
    watchers.push(watcher);
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
