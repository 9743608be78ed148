import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, folderGraph, folderOf, type ImportEdge, importsOf, isTest, sourceFiles } from './imports.js';
import { floorOf, FLOORS } from './layers.js';

/**
 * The layer rule of docs/architecture.md, checked on the code as it is: production files under src/
 * (tests may reach into their own folder's internals, and test/ helpers anywhere).
 */
const SRC = join(import.meta.dirname, '../../src');
const files = sourceFiles(SRC, (p) => !isTest(p));
const edges = files.flatMap((f) => importsOf(SRC, f));
const crossing = edges.filter((e) => folderOf(e.from) !== folderOf(e.to));
const where = (e: ImportEdge) => `${e.from}:${e.line} → ${e.to}`;

describe('the floors of src/', () => {
  it('every folder under src/ stands on a floor', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(folders.filter((f) => floorOf(f) === undefined)).toEqual([]);
    expect(files.filter((f) => folderOf(f) === '')).toEqual([]);
  });

  it('no import enters another folder other than through its index.ts', () => {
    expect(crossing.filter((e) => !/^[^/]+\/index\.ts$/.test(e.to)).map(where)).toEqual([]);
  });

  it('no folder imports a floor above its own', () => {
    const upward = crossing.filter((e) => floorOf(folderOf(e.to))!.level > floorOf(folderOf(e.from))!.level);
    expect(upward.map((e) => `${where(e)} (${floorOf(folderOf(e.from))!.name} → ${floorOf(folderOf(e.to))!.name})`)).toEqual([]);
  });

  it('no cycle between folders', () => {
    expect(cycles(folderGraph(edges))).toEqual([]);
  });

  it('the kernel imports nothing above it', () => {
    const kernel = new Set<string>(FLOORS[0].folders);
    expect(crossing.filter((e) => kernel.has(folderOf(e.from)) && !kernel.has(folderOf(e.to))).map(where)).toEqual([]);
  });

  it('process.env is read in config/ only', () => {
    const readers = files.filter((f) => folderOf(f) !== 'config' && /\bprocess\.env\b/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(readers).toEqual([]);
  });

  it('a module face holds no logic and no `export *`', () => {
    const faces = files.filter((f) => /^[^/]+\/index\.ts$/.test(f));
    const withLogic = faces.filter((f) => !isFace(readFileSync(join(SRC, f), 'utf8')));
    expect(withLogic).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find a cycle and an import past a face when there is one', () => {
    const graph = folderGraph([
      { from: 'a/x.ts', to: 'b/index.ts', line: 1, typeOnly: false },
      { from: 'b/y.ts', to: 'c/deep.ts', line: 1, typeOnly: false },
      { from: 'c/z.ts', to: 'a/index.ts', line: 1, typeOnly: false },
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c']]);
    expect(isFace("export { a } from './a.js';\nexport type { B } from './b.js';\n")).toBe(true);
    expect(isFace("export * from './a.js';\n")).toBe(false);
    expect(isFace("export function f() { return 1; }\n")).toBe(false);
  });
});

/** A face: comments, imports and named re-exports only. */
function isFace(text: string): boolean {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const statements = code.split(/;\s*\n?/).map((s) => s.trim()).filter(Boolean);
  return statements.every((s) => /^(import|export)\s+(type\s+)?\{[\s\S]*\}\s+from\s+'[^']+'$/.test(s) || /^import\s+type\s+/.test(s));
}
