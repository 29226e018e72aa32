// The folder rules of DESIGN.md, checked on the source itself: the config library depends on no concern,
// no two top-level folders of src/ depend on each other in a cycle, and the stand-in and the product
// stay apart (only the dev stack may use the stand-in).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';

const srcRoot = resolve(import.meta.dirname, '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The top-level unit a file belongs to: its folder under src/, or the file itself at the top. */
function unitOf(file: string): string {
  const [first, ...rest] = relative(srcRoot, file).split(sep);
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : first!;
}

const importPattern = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

/** unit → units it imports, with one example edge each for the failure message. */
function unitGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(srcRoot)) {
    const from = unitOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const m of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const to = unitOf(resolve(dirname(file), spec));
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(srcRoot, file)} → ${spec}`);
    }
  }
  return graph;
}

test('src/config is the config library only: it imports no concern, only the logging contract', () => {
  const graph = unitGraph();
  const edges = [...(graph.get('config') ?? new Map<string, string>())].filter(([to]) => to !== 'log');
  assert.deepEqual(
    edges.map(([, e]) => e),
    [],
  );
  // The contract every module may import is a leaf: it can never close a cycle.
  assert.deepEqual([...(graph.get('log')?.values() ?? [])], []);
});

test('no import cycle between the top-level folders of src/', () => {
  const graph = unitGraph();
  const cycles: string[] = [];
  // A cycle exists iff some unit reaches itself; report each offending pair of direct edges once.
  const reaches = (from: string, target: string, seen = new Set<string>()): boolean => {
    for (const next of graph.get(from)?.keys() ?? []) {
      if (next === target) return true;
      if (!seen.has(next)) {
        seen.add(next);
        if (reaches(next, target, seen)) return true;
      }
    }
    return false;
  };
  for (const [unit, edges] of graph) {
    for (const [to, example] of edges) if (reaches(to, unit)) cycles.push(`${unit} → ${to} (${example})`);
  }
  assert.deepEqual(cycles, []);
});

test('the stand-in and the product stay apart: only the dev stack uses src/sim', () => {
  const graph = unitGraph();
  const simImports = [...(graph.get('sim')?.entries() ?? [])].filter(([to]) => to !== 'command').map(([, e]) => e);
  assert.deepEqual(simImports, [], 'src/sim imports only the command contract of the product');
  const users = [...graph].filter(([unit, edges]) => unit !== 'dev' && unit !== 'cli' && edges.has('sim')).map(([, e]) => e.get('sim'));
  assert.deepEqual(users, []);
});
