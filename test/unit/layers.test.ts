/**
 * The layering of the code base, enforced: every import between our own files (static, dynamic
 * `import(...)`, `export ... from`, `typeof import(...)`) must follow the matrix below.
 * `docs/architecture.md` ("Layers") draws the same picture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A room of the code base: a folder, or a few files that stand on their own. */
type Layer =
  | 'core'
  | 'shared'
  | 'store'
  | 'aws'
  | 'tick'
  | 'deps'
  | 'task'
  | 'api'
  | 'dashboard'
  | 'cli'
  | 'local'
  | 'testing'
  | 'functions'
  | 'infra';

/** Files of `src/` that stand on their own, below every folder but the core. */
const sharedFiles = new Set([
  'src/ids.ts',
  'src/clock.ts',
  'src/env.ts',
  'src/package-root.ts',
  // The client side of the API's error shape, for the CLI and the browser alike (no imports).
  'src/api-response.ts',
]);

/** The layer of a repository-relative path, or undefined for files outside the checked folders. */
function layerOf(file: string): Layer | undefined {
  if (sharedFiles.has(file)) return 'shared';
  if (file === 'src/deps.ts') return 'deps';
  const [top, folder] = file.split('/');
  if (top === 'functions') return 'functions';
  if (top === 'infra') return 'infra';
  if (top !== 'src') return undefined;
  const folders: Record<string, Layer> = {
    core: 'core',
    store: 'store',
    aws: 'aws',
    tick: 'tick',
    task: 'task',
    api: 'api',
    dashboard: 'dashboard',
    cli: 'cli',
    local: 'local',
    testing: 'testing',
  };
  return folder === undefined ? undefined : folders[folder];
}

const everything: Layer[] = [
  'core',
  'shared',
  'store',
  'aws',
  'tick',
  'deps',
  'task',
  'api',
  'dashboard',
  'cli',
  'local',
  'testing',
  'functions',
  'infra',
];

/**
 * What each layer may import (besides itself). `shared` is the files in `sharedFiles`; `deps`
 * is the deps factory, `src/deps.ts`.
 */
const allowed: Record<Layer, { values: Layer[]; types?: Layer[] }> = {
  core: { values: [] },
  shared: { values: ['core'] },
  store: { values: ['core', 'shared'] },
  aws: { values: ['core', 'shared'] },
  tick: { values: ['core', 'shared', 'store', 'aws'] },
  deps: { values: ['core', 'shared', 'store', 'aws', 'tick'] },
  // And of tick/ only the shared use cases: see `taskMayImportFromTick`.
  task: { values: ['core', 'shared', 'store', 'aws', 'tick', 'deps'] },
  api: { values: ['core', 'shared', 'store', 'aws', 'tick', 'deps'] },
  // And types of src/api/schemas.ts: see `typeOnlyFiles`.
  dashboard: { values: ['core', 'shared'] },
  cli: { values: ['core', 'shared', 'local'], types: ['api'] },
  local: { values: everything.filter((l) => !['cli', 'testing', 'functions', 'infra'].includes(l)) },
  // tickwork/testing: the in-memory store and a run event, for teams' handler tests.
  testing: { values: ['core', 'shared', 'store'] },
  functions: { values: everything },
  infra: { values: everything },
};

/** The task SDK runs inside every handler Lambda: of tick/ it takes the shared use cases, never the batch. */
const taskMayImportFromTick = new Set(['src/tick/settle.ts', 'src/tick/dispatch.ts', 'src/tick/registry.ts']);

/** Single files a layer may import types from, outside its matrix row. */
const typeOnlyFiles: Partial<Record<Layer, string[]>> = { dashboard: ['src/api/schemas.ts'] };

/** One import of one file. */
interface ImportEdge {
  from: string;
  /** Repository-relative path of the imported file, or the package name. */
  to: string;
  specifier: string;
  typeOnly: boolean;
  line: number;
}

/** The imports of one source text (`file` repository-relative). */
function importsOf(file: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (literal: ts.Node, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(literal)) return;
    const specifier = literal.text;
    const to = specifier.startsWith('.')
      ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts')
      : specifier;
    const line = source.getLineAndCharacterOfPosition(literal.getStart()).line + 1;
    edges.push({ from: file, to, specifier, typeOnly, line });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const clause = node.exportClause;
      const typeOnly =
        node.isTypeOnly ||
        (clause !== undefined &&
          ts.isNamedExports(clause) &&
          clause.elements.length > 0 &&
          clause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [first] = node.arguments;
      if (first) add(first, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** Why an import breaks the layering, or undefined when it is allowed. */
function violationOf(edge: ImportEdge): string | undefined {
  const from = layerOf(edge.from);
  const to = edge.specifier.startsWith('.') ? layerOf(edge.to) : undefined;
  if (from === undefined || to === undefined || from === to) return undefined;
  const rule = allowed[from];
  if (from === 'task' && to === 'tick' && !taskMayImportFromTick.has(edge.to)) {
    return `task may import from tick/ only ${[...taskMayImportFromTick].join(', ')}`;
  }
  if (rule.values.includes(to)) return undefined;
  if (edge.typeOnly && (rule.types?.includes(to) || typeOnlyFiles[from]?.includes(edge.to))) return undefined;
  return `${from} may not import ${to}${edge.typeOnly ? ' (not even types)' : ''}`;
}

/** Every `.ts` file under `dirs` (repository-relative, `/`-separated). */
function sourceFiles(dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts'))
      .map((name) => path.posix.join(dir, name.split(path.sep).join('/'))),
  );
}

/** One line per import that breaks the layering: file, line, import and why. */
function layeringViolations(files: { file: string; text: string }[]): string[] {
  return files.flatMap(({ file, text }) =>
    importsOf(file, text).flatMap((edge) => {
      const why = violationOf(edge);
      return why ? [`${edge.from}:${edge.line} imports '${edge.specifier}': ${why}`] : [];
    }),
  );
}

describe('layers', () => {
  it('every import in src/, functions/ and infra/ follows the layer matrix', () => {
    const files = sourceFiles(['src', 'functions', 'infra']).map((file) => ({
      file,
      text: readFileSync(path.join(root, file), 'utf8'),
    }));
    expect(files.length).toBeGreaterThan(50);
    expect(layeringViolations(files)).toEqual([]);
  });

  it('fails on a wrong-way import, naming the file and the import', () => {
    const files = [
      { file: 'src/api/make-deps.ts', text: "import { dashboardHandler } from '../dashboard/serve.js';\n" },
      { file: 'src/task/settle.ts', text: "export { runTick } from '../tick/run-tick.js';\n" },
      { file: 'src/core/plan.ts', text: "const m = await import('../store/dynamo-items.js');\n" },
      { file: 'src/tick/dispatch.ts', text: "import type { ApiDeps } from '../api/deps.js';\n" },
      { file: 'src/dashboard/app/api.ts', text: "import { TaskViewSchema } from '../../api/schemas.js';\n" },
    ];
    expect(layeringViolations(files)).toEqual([
      "src/api/make-deps.ts:1 imports '../dashboard/serve.js': api may not import dashboard",
      "src/task/settle.ts:1 imports '../tick/run-tick.js': task may import from tick/ only src/tick/settle.ts, src/tick/dispatch.ts, src/tick/registry.ts",
      "src/core/plan.ts:1 imports '../store/dynamo-items.js': core may not import store",
      "src/tick/dispatch.ts:1 imports '../api/deps.js': tick may not import api (not even types)",
      "src/dashboard/app/api.ts:1 imports '../../api/schemas.js': dashboard may not import api",
    ]);
  });

  it('allows what the matrix allows', () => {
    const files = [
      { file: 'src/dashboard/app/api.ts', text: "import type { TaskView } from '../../api/schemas.js';\n" },
      { file: 'src/task/handler.ts', text: "import { settleTask } from '../tick/settle.js';\n" },
      { file: 'src/local/runtime.ts', text: "const m = await import('../dashboard/serve.js');\n" },
      { file: 'functions/api.ts', text: "import { dashboardHandler } from '../src/dashboard/serve.js';\n" },
      {
        file: 'src/cli/client.ts',
        text: "import { type RunView, type TaskView } from '../api/schemas.js';\n",
      },
    ];
    expect(layeringViolations(files)).toEqual([]);
  });
});
