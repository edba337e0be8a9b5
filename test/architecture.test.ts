/**
 * The import rule: modules are folders under src/ with one index.ts; imports point down only.
 * A file may import (a) files of its own module, (b) another module only through its index.ts,
 * and only if the edge is in ALLOWED. Fails on the first wrong edge, naming file and import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** module → modules it may import. Layers: L0 lib/oci/api-types · L1 image runtime network volume client registry/client builder/dockerfile · L2 engine builder · L3 api/server cli compose registry/server · L4 cmd */
export const ALLOWED: Record<string, string[]> = {
  'lib': [],
  'oci': [],
  'api/types': ['oci'],
  'client': ['api/types', 'lib', 'oci'],
  'image': ['lib', 'oci', 'registry/client'],
  'runtime': ['lib', 'oci'],
  'network': ['lib', 'oci'],
  'volume': ['lib', 'oci'],
  'registry/client': ['lib', 'oci'],
  'engine': ['lib', 'oci', 'image', 'runtime', 'network', 'volume', 'registry/client'],
  'builder/dockerfile': ['lib'],
  'builder': ['lib', 'oci', 'builder/dockerfile'],
  'api/server': ['api/types', 'lib', 'oci', 'engine', 'image', 'builder'],
  'registry/server': ['lib', 'oci'],
  'cli': ['client', 'api/types', 'lib', 'oci', 'builder/dockerfile'],
  'compose': ['client', 'api/types', 'lib', 'oci'],
  'cmd': ['*'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function moduleOf(file: string): string | undefined {
  const rel = relative(SRC, file).split('/');
  for (let i = rel.length - 1; i > 0; i--) {
    const m = rel.slice(0, i).join('/');
    if (m in ALLOWED) return m;
  }
  return undefined;
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

test('every source file belongs to a module with an index.ts', () => {
  for (const f of walk(SRC)) {
    const m = moduleOf(f);
    assert.ok(m, `${relative(SRC, f)} is not inside a known module (add it to ALLOWED)`);
    assert.ok(existsSync(join(SRC, m, 'index.ts')), `module ${m} has no index.ts`);
  }
});

test('imports point down only and enter other modules through index.ts', () => {
  const problems: string[] = [];
  for (const f of walk(SRC)) {
    if (f.endsWith('.test.ts')) continue;
    const from = moduleOf(f)!;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(f), spec);
      const to = moduleOf(target);
      if (!to) { problems.push(`${relative(SRC, f)}: import ${spec} leaves src/`); continue; }
      if (to === from) continue;
      if (target !== join(SRC, to, 'index.ts')) problems.push(`${relative(SRC, f)}: import ${spec} bypasses ${to}/index.ts`);
      const ok = ALLOWED[from]!.includes('*') || ALLOWED[from]!.includes(to);
      if (!ok) problems.push(`${relative(SRC, f)}: ${from} may not import ${to} (${spec})`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the rule itself catches a wrong edge', () => {
  // A lower module importing a higher one must be refused by the table.
  assert.ok(!ALLOWED['lib']!.includes('engine'));
  assert.ok(!ALLOWED['runtime']!.includes('network'));
  assert.ok(!ALLOWED['cli']!.includes('engine'));
  assert.ok(!ALLOWED['registry/server']!.includes('engine'));
});
