/**
 * The Function App's package holds the app and nothing else: the modules package.json `main`
 * loads and what they import, never the sandbox, the dev tools or the CLI, and no dependency that
 * only those use. Built by the real script (scripts/package-function.mjs) from the compiled tree
 * `npm test` builds first; `--no-install` skips downloading node_modules.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const packageJson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** Package names a compiled module imports (`@scope/name` or `name`), Node's built-ins left out. */
function packagesImportedBy(code: string): string[] {
  const names = new Set<string>();
  // A bare specifier: a package name (npm's rules: lower case, digits, `-._~`), optionally a subpath.
  const bare =
    /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\()\s*['"]((?:@[a-z0-9~-][\w.~-]*\/)?[a-z0-9~-][\w.~-]*(?:\/[^'"]*)?|node:[^'"]+)['"]/g;
  for (const [, specifier] of code.matchAll(bare)) {
    if (specifier === undefined || specifier.startsWith('node:')) continue;
    const parts = specifier.split('/');
    names.add(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
  }
  return [...names];
}

function packagesUsedUnder(folder: string): Set<string> {
  const used = new Set<string>();
  for (const file of filesUnder(folder).filter((f) => f.endsWith('.js'))) {
    for (const name of packagesImportedBy(readFileSync(join(folder, file), 'utf8'))) used.add(name);
  }
  return used;
}

let out: string;
let shipped: string[];

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'deploy-package-'));
  execFileSync(process.execPath, [join(REPO, 'scripts', 'package-function.mjs'), '--no-install'], {
    env: { ...process.env, REFERRALS_LAKE_DEPLOY_DIR: out },
    stdio: 'pipe',
  });
  shipped = filesUnder(out);
});

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe('the deploy package', () => {
  it('holds what the Functions host loads: main names index.js and one module per function', () => {
    expect(packageJson.main).toBe('dist/src/{index.js,functions/*.js}');
    expect(shipped).toContain('dist/src/index.js');
    const functions = shipped.filter((f) => /^dist\/src\/functions\/[^/]+\.js$/.test(f));
    const built = readdirSync(join(REPO, 'dist', 'src', 'functions')).filter((f) => f.endsWith('.js'));
    expect(functions.map((f) => f.split('/').pop()).sort()).toEqual(built.sort());
    expect(shipped).toEqual(expect.arrayContaining(['host.json', 'package.json', 'package-lock.json', '.funcignore']));
  });

  it('holds no sandbox, dev tool, CLI, test or benchmark code', () => {
    const modules = shipped.filter((f) => f.startsWith('dist/'));
    expect(modules.length).toBeGreaterThan(50);
    for (const file of modules) {
      expect(file, file).toMatch(/^dist\/src\//);
      expect(file, file).not.toMatch(/^dist\/src\/(cli|sandbox|dev)\//);
    }
    expect(shipped.some((f) => /(^|\/)(sandbox|dev|bench|test)\//.test(f))).toBe(false);
  });

  it('imports no package outside the production dependencies', () => {
    const used = packagesUsedUnder(join(out, 'dist'));
    expect(used.size).toBeGreaterThan(3);
    for (const name of used) expect(Object.keys(packageJson.dependencies), name).toContain(name);
  });

  it('has no production dependency that only the sandbox or the dev tools use', () => {
    // The app is src/ (the function package and the operator CLI); sandbox/ and dev/ are beside it.
    const usedByApp = packagesUsedUnder(join(REPO, 'dist', 'src'));
    for (const name of Object.keys(packageJson.dependencies)) expect([...usedByApp], name).toContain(name);
    for (const name of packagesUsedUnder(join(REPO, 'dist', 'sandbox'))) {
      if (!usedByApp.has(name)) expect(Object.keys(packageJson.devDependencies), name).toContain(name);
    }
  });
});
