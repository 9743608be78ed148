import { join } from 'node:path';
import { cycles, folderGraph, folderOf, importsOf, isTest, sourceFiles } from './imports.js';

const root = join(import.meta.dirname, '../../src');
const files = sourceFiles(root, (p) => !isTest(p));
const edges = files.flatMap((f) => importsOf(root, f));
const graph = folderGraph(edges);
for (const [a, bs] of [...graph].sort()) console.log(`${a.padEnd(14)} → ${[...bs].sort().join(', ')}`);
const scc = cycles(graph);
console.log(`\ncycles: ${scc.length}`);
for (const c of scc) console.log(`  [${c.length}] ${c.join(' ')}`);
const mutual = [...graph].flatMap(([a, bs]) => [...bs].filter((b) => a < b && graph.get(b)?.has(a)).map((b) => `${a}↔${b}`));
console.log(`mutual pairs: ${mutual.length}: ${mutual.join(' ')}`);
const faceless = edges.filter((e) => folderOf(e.from) !== folderOf(e.to) && !/^[^/]+\/index\.ts$/.test(e.to));
console.log(`imports past a face: ${faceless.length}`);
if (process.argv.includes('--faces')) for (const e of faceless) console.log(`  ${e.from}:${e.line} → ${e.to}`);
