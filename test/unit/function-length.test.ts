/**
 * No function in `src/` or `infra/` runs over 80 lines unless the comment right above it (its
 * TSDoc, or a line comment) gives the reason, starting `Long because:`. Long functions are
 * recipes; they read better as named steps.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const maxLines = 80;
const reasonMark = 'Long because:';

/** A function over the limit with no reason given. */
interface LongFunction {
  file: string;
  name: string;
  line: number;
  lines: number;
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

function isFunctionLike(node: ts.Node): node is FunctionLike {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** A readable name: the declaration's own, or the variable, property or call it is bound to. */
function nameOf(node: FunctionLike, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) {
    const owner = node.parent;
    return `${ts.isClassLike(owner) && owner.name ? owner.name.text : '(class)'} constructor`;
  }
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  if (
    ts.isVariableDeclaration(parent) ||
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent)
  ) {
    return parent.name.getText(source);
  }
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(source).slice(0, 40)})`;
  return '(anonymous)';
}

/**
 * The node whose leading comments carry the reason: the statement or member a function is
 * declared by (`const f = () => ...`, `prop: () => ...`), or the function itself.
 */
function anchorOf(node: FunctionLike): ts.Node {
  let anchor: ts.Node = node;
  for (let up = node.parent; up; up = up.parent) {
    if (
      ts.isVariableDeclaration(up) ||
      ts.isVariableDeclarationList(up) ||
      ts.isVariableStatement(up) ||
      ts.isPropertyAssignment(up) ||
      ts.isPropertyDeclaration(up) ||
      ts.isExportAssignment(up)
    ) {
      anchor = up;
      continue;
    }
    break;
  }
  return anchor;
}

function hasReason(node: FunctionLike, source: ts.SourceFile): boolean {
  const text = source.getFullText();
  for (const candidate of [node, anchorOf(node)]) {
    const ranges = ts.getLeadingCommentRanges(text, candidate.getFullStart()) ?? [];
    if (ranges.some((r) => text.slice(r.pos, r.end).includes(reasonMark))) return true;
  }
  return false;
}

/** The functions of one source text over the limit without a reason. */
function longFunctionsOf(file: string, text: string): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (isFunctionLike(node) && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      const lines = last - first + 1;
      if (lines > maxLines && !hasReason(node, source)) {
        found.push({ file, name: nameOf(node, source), line: first, lines });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts') && !name.includes('generated'))
      .map((name) => path.posix.join(dir, name.split(path.sep).join('/'))),
  );
}

function describeAll(found: LongFunction[]): string[] {
  return found.map(
    (f) =>
      `${f.file}:${f.line} ${f.name} is ${f.lines} lines (over ${maxLines}): split it, or say why above it with "${reasonMark} ..."`,
  );
}

describe('function length', () => {
  it(`no function in src/ or infra/ is over ${maxLines} lines without a reason`, () => {
    const found = sourceFiles(['src', 'infra']).flatMap((file) =>
      longFunctionsOf(file, readFileSync(path.join(root, file), 'utf8')),
    );
    expect(describeAll(found)).toEqual([]);
  });

  it('names each offender, and accepts a reason above it', () => {
    const body = Array.from({ length: maxLines }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = [
      `function tooLong() {\n${body}\n}`,
      `/** Long because: one table, read top to bottom. */\nfunction justified() {\n${body}\n}`,
      `export const arrow = () => {\n${body}\n};`,
      `// Long because: a recipe kept whole on purpose.\nconst reasoned = async () => {\n${body}\n};`,
      `class Stack {\n  constructor() {\n${body}\n  }\n}`,
      `function short() {\n  return 1;\n}`,
    ].join('\n');
    expect(describeAll(longFunctionsOf('src/x.ts', text)).map((line) => line.split(' (over')[0])).toEqual([
      'src/x.ts:1 tooLong is 82 lines',
      'src/x.ts:166 arrow is 82 lines',
      'src/x.ts:332 Stack constructor is 82 lines',
    ]);
  });
});
