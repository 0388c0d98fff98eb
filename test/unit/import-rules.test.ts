// The import rules of docs/architecture.md "Rooms": the forbidden edges in .dependency-cruiser.cjs, and no cycle
// between top-level folders of src/ (type-only imports count: a cycle of types is still a cycle of concepts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const config = require('../../.dependency-cruiser.cjs') as IConfiguration;

async function cruiseSrc(): Promise<ICruiseResult> {
  const result = await cruise(['src'], { ...config.options, ruleSet: { forbidden: config.forbidden ?? [] }, validate: true });
  return result.output as ICruiseResult;
}

/** Top-level room of a module: `stratum` for src/stratum/handlers/login.ts, `(root)` for src/Gateway.ts. */
function room(source: string): string | undefined {
  const match = /^src\/(?:([^/]+)\/)?[^/]+$/.exec(source) ?? /^src\/([^/]+)\//.exec(source);
  if (match === null) return undefined;
  return match[1] ?? '(root)';
}

/** Strongly connected components of more than one room (Tarjan). */
function roomCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    order.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, order.get(next)!));
      }
    }
    if (low.get(node) === order.get(node)) {
      const component: string[] = [];
      for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!order.has(node)) visit(node);
  return cycles;
}

test('no forbidden import (transports know no PoW, PoW knows no sockets, protocol is only the wire, …)', async () => {
  const result = await cruiseSrc();
  const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
  assert.deepEqual(violations, []);
  assert.ok(result.modules.length > 50, 'the cruise saw the sources');
});

test('no cycle between top-level folders of src/', async () => {
  const result = await cruiseSrc();
  const edges = new Map<string, Set<string>>();
  const witness = new Map<string, string>();
  for (const module of result.modules) {
    const from = room(module.source);
    if (from === undefined) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    for (const dependency of module.dependencies) {
      const to = room(dependency.resolved);
      if (to === undefined || to === from) continue;
      edges.get(from)!.add(to);
      witness.set(`${from}→${to}`, `${module.source} → ${dependency.resolved}`);
    }
  }
  const cycles = roomCycles(edges);
  const explained = cycles.map((members) => {
    const inside = [...witness.entries()].filter(([key]) => members.includes(key.split('→')[0]!) && members.includes(key.split('→')[1]!));
    return `${members.join(' ⇄ ')}: ${inside.map(([, example]) => example).join('; ')}`;
  });
  assert.deepEqual(explained, []);
});
