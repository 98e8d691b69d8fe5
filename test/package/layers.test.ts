/**
 * Data flows one way, and the folders say so: each rule names a folder and the folders its modules
 * must not import (read from the sources, relative imports resolved).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

const RULES: readonly (readonly [folder: string, forbidden: readonly string[], why: string])[] = [
  ['src', ['sandbox', 'dev', 'test', 'bench'], 'the app never imports the sandbox, the dev tools, tests or benchmarks'],
  [
    'src/source',
    ['src/lake', 'src/sync', 'src/live', 'src/functions', 'src/cli'],
    'the Partner Center client knows no lake',
  ],
  ['src/normalize', ['src/lake', 'src/sync', 'src/live', 'src/source', 'src/functions'], 'normalizing is pure'],
  ['src/lake', ['src/sync', 'src/live', 'src/functions', 'src/cli'], 'the lake does not know who writes it'],
  ['src/live', ['src/functions', 'src/sync', 'src/cli'], 'the live list does not know its entry points'],
  ['src/sync', ['src/live', 'src/functions', 'src/cli'], 'a run does not know its entry points'],
  [
    'src/common',
    ['src/source', 'src/normalize', 'src/lake', 'src/sync', 'src/live', 'src/actions', 'src/functions', 'src/cli'],
    'the shared helpers know no layer above them',
  ],
  [
    'src/actions',
    ['src/sync', 'src/live', 'src/functions', 'src/cli'],
    'a write to Partner Center does not know who asks for it',
  ],
  ['src/lake/storage', ['src/lake/formats', 'src/lake/layout'], 'storage moves bytes, whatever they encode'],
  ['src/lake/formats', ['src/lake/layout'], 'a file format does not know where files go'],
];

function sourceFiles(folder: string): string[] {
  return readdirSync(join(REPO, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function importedPaths(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  // Static and dynamic imports, and a folder a module loads from by URL (`new URL('../x/', import.meta.url)`).
  const specifiers = /(?:\bfrom\s*|\bimport\s*\(?\s*|\bnew URL\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  return [...code.matchAll(specifiers)].map(([, spec]) =>
    relative(REPO, resolve(dirname(file), spec as string))
      .split(sep)
      .join('/'),
  );
}

describe('layers', () => {
  for (const [folder, forbidden, why] of RULES) {
    it(`${folder}: ${why}`, () => {
      const files = sourceFiles(folder);
      expect(files.length).toBeGreaterThan(0);
      const offending = files.flatMap((file) =>
        importedPaths(file)
          .filter((target) => forbidden.some((f) => target === f || target.startsWith(`${f}/`)))
          .map((target) => `${relative(REPO, file)} → ${target}`),
      );
      expect(offending).toEqual([]);
    });
  }
});
