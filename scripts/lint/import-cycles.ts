// Import cycles among the project's TypeScript files, type-only imports included: a cycle through types still ties
// its modules into one (eslint-plugin-import-x's no-cycle skips type-only imports, so it is not enough). The
// TypeScript compiler reads and resolves the imports, exactly as tsc does. Part of `npm run lint`:
// node --import tsx scripts/lint/import-cycles.ts [tsconfig.json]
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Every file's imports among `files` (packages and files outside the set left out). */
export function importGraph(files: readonly string[], options: ts.CompilerOptions): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file) ?? '', true, true);
    const targets = importedFiles
      .map((i) => ts.resolveModuleName(i.fileName, file, options, ts.sys).resolvedModule?.resolvedFileName)
      .filter((t): t is string => t !== undefined && known.has(t));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Each cycle once, as the files of one loop from its first file back to it (Tarjan's strongly connected parts). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const parts: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const part: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      part.push(w);
    } while (w !== v);
    if (part.length > 1 || (graph.get(v) ?? []).includes(v)) parts.push(part);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return parts.map((part) => loopThrough(graph, new Set(part), [...part].sort()[0]!));
}

/** A shortest path from `start` back to itself inside one strongly connected part. */
function loopThrough(graph: ReadonlyMap<string, readonly string[]>, part: ReadonlySet<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const loop = [v];
        while (loop[0] !== start) loop.unshift(cameFrom.get(loop[0]!)!);
        return loop;
      }
      if (part.has(w) && !cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const configFile = process.argv[2] ?? 'tsconfig.json';
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { fileNames, options } = ts.parseJsonConfigFileContent(config, ts.sys, process.cwd());
  const cycles = findCycles(importGraph(fileNames, options));
  const shown = (f: string): string => f.replace(`${process.cwd()}/`, '');
  for (const loop of cycles) console.error(`import cycle: ${[...loop, loop[0]!].map(shown).join(' → ')}`);
  if (cycles.length > 0) {
    console.error(`${cycles.length} import cycle(s) among ${fileNames.length} files: move what both sides need into a module both import.`);
    process.exit(1);
  }
  console.log(`no import cycle among ${fileNames.length} files`);
}
