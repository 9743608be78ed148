import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, folderGraph, folderOf, type ImportEdge, importsOf, isTest, sourceFiles } from './imports.js';
import { floorOf, FLOORS } from './layers.js';
import { knownTables, type TableUse, tablesUsed } from './sql.js';

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

  it('tests sit beside what they test: test/ holds shared helpers only', () => {
    const TEST = join(import.meta.dirname, '../../test');
    expect(sourceFiles(TEST, (p) => /\.test\.ts$/.test(p))).toEqual([]);
  });

  it('a module face holds no logic and no `export *`', () => {
    const faces = files.filter((f) => /^[^/]+\/index\.ts$/.test(f));
    const withLogic = faces.filter((f) => !isFace(readFileSync(join(SRC, f), 'utf8')));
    expect(withLogic).toEqual([]);
  });
});

/** The kernel's database floor owns the clock and the migrations' own record. */
const KERNEL_TABLES: Record<string, readonly string[]> = { db: ['earnest_clock', 'schema_migrations'] };

/**
 * Files that hold SQL outside their module's repository.ts. Issue 12 moved the last ones: the list is
 * empty and may stay so — the test fails when a file not here starts to hold SQL.
 */
const SQL_OUTSIDE_REPOSITORY: readonly string[] = [];

describe('modules own their tables', async () => {
  const known = knownTables(join(SRC, 'db/migrations'));
  known.add('schema_migrations'); // created by the migrator itself (src/db/migrate.ts)
  const uses = new Map<string, TableUse[]>();
  for (const f of files) {
    const found = tablesUsed(readFileSync(join(SRC, f), 'utf8'), f, known);
    if (found.length > 0) uses.set(f, found);
  }
  const declared = new Map<string, { owns: readonly string[]; reads: readonly string[] }>();
  for (const folder of new Set([...uses.keys()].map(folderOf))) {
    if (KERNEL_TABLES[folder]) declared.set(folder, { owns: KERNEL_TABLES[folder], reads: [] });
    else if (files.includes(`${folder}/repository.ts`)) {
      const m = (await import(join(SRC, folder, 'repository.ts'))) as { TABLES?: { owns: readonly string[]; reads: readonly string[] } };
      if (m.TABLES) declared.set(folder, m.TABLES);
    }
  }

  it('every module whose code names a table declares the tables it owns and reads (TABLES in its repository.ts)', () => {
    expect(declared.size).toBeGreaterThanOrEqual(14);
    expect([...uses.keys()].map(folderOf).filter((f) => !declared.has(f))).toEqual([]);
  });

  it('no SQL in rules, flows or front doors', () => {
    const level = (f: string) => floorOf(folderOf(f))!.name;
    expect([...uses.keys()].filter((f) => ['rules', 'runtime', 'flows', 'doors'].includes(level(f)))).toEqual([]);
  });

  it('each table is owned by one module, and every table is owned', () => {
    const owners = new Map<string, string[]>();
    for (const [folder, t] of declared) for (const table of t.owns) owners.set(table, [...(owners.get(table) ?? []), folder]);
    expect([...owners].filter(([, o]) => o.length > 1)).toEqual([]);
    expect([...known].filter((t) => !owners.has(t)).sort()).toEqual([]);
  });

  it('a file writes only tables its module owns, and reads only those it owns or declares', () => {
    const wrong: string[] = [];
    for (const [f, found] of uses) {
      const t = declared.get(folderOf(f));
      if (!t) continue;
      for (const u of found) {
        if (u.write && !t.owns.includes(u.table)) wrong.push(`${f}:${u.line} writes ${u.table}, which ${folderOf(f)} does not own`);
        else if (!t.owns.includes(u.table) && !t.reads.includes(u.table)) wrong.push(`${f}:${u.line} reads ${u.table}, which ${folderOf(f)} does not declare`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('SQL lives in repository.ts, but for the files still listed to move there', () => {
    const outside = [...uses.keys()].filter((f) => !f.endsWith('/repository.ts') && !KERNEL_TABLES[folderOf(f)]).sort();
    expect(outside).toEqual([...SQL_OUTSIDE_REPOSITORY].sort());
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
