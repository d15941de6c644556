import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import ts from 'typescript';
import { findCycles, importGraph } from '../../../scripts/lint/import-cycles.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lgt-cycles-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const options: ts.CompilerOptions = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 };

function project(files: Record<string, string>): string[] {
  return Object.entries(files).map(([name, text]) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  });
}

test('a cycle through a type-only import is a cycle, shown from its first file back to it', () => {
  const files = project({
    'admin.ts': "import { create } from './remote-admin.js';\nexport interface Admin { x: number }\nexport const a = create;\n",
    'remote-admin.ts': "import type { Admin } from './admin.js';\nexport const create = (): Admin => ({ x: 1 });\n",
    'main.ts': "import { a } from './admin.js';\nimport 'node:fs';\nexport default a;\n",
  });
  const cycles = findCycles(importGraph(files, options));
  assert.deepEqual(cycles.map((loop) => loop.map((f) => path.basename(f))), [['admin.ts', 'remote-admin.ts']]);
});

test('imports that only go down (re-exports and dynamic imports counted) make no cycle', () => {
  const files = project({
    'low.ts': 'export const low = 1;\n',
    'mid.ts': "export { low } from './low.js';\n",
    'top.ts': "import { low } from './mid.js';\nexport const top = () => import('./low.js').then(() => low);\n",
  });
  const graph = importGraph(files, options);
  assert.deepEqual(graph.get(path.join(dir, 'top.ts'))?.map((f) => path.basename(f)).sort(), ['low.ts', 'mid.ts']);
  assert.deepEqual(findCycles(graph), []);
});

test('a longer loop is reported once, along its shortest way round', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c', 'd']],
    ['c', ['a']],
    ['d', ['b', 'd']],
    ['e', ['e']],
  ]);
  assert.deepEqual(findCycles(graph).sort(), [['a', 'b', 'c'], ['e']]);
});
