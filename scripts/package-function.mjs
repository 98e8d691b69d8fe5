#!/usr/bin/env node
/**
 * Assembles the Function App's deployment package in `.deploy/` (azure.yaml `dist`): host.json,
 * package.json + lock, the compiled modules the app loads (run `npm run build` first;
 * `npm run package:azure` does both) and production dependencies only.
 *
 * The modules are those package.json `main` names (src/index.js and src/functions/*.js) and every
 * module they import, followed through the compiled files: the operator CLI, the sandbox, the dev
 * tools, the tests and the benchmarks are not reached, so they are not shipped. `--no-install`
 * skips `npm ci` (the tests check the module set without downloading anything).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.env.REFERRALS_LAKE_DEPLOY_DIR ?? join(root, '.deploy'));
const install = !process.argv.includes('--no-install');

const dist = join(root, 'dist');
if (!existsSync(join(dist, 'src', 'index.js'))) {
  process.stderr.write('dist/src/index.js is missing: run `npm run build` first\n');
  process.exit(1);
}

/** The entry modules `main` names: `dist/src/{index.js,functions/*.js}`. */
function entryModules() {
  const functions = join(dist, 'src', 'functions');
  return [
    join(dist, 'src', 'index.js'),
    ...readdirSync(functions)
      .filter((file) => file.endsWith('.js'))
      .map((file) => join(functions, file)),
  ];
}

// Static `import … from './x.js'`, `export … from`, side-effect `import './x.js'` and `import('./x.js')`.
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every compiled module reachable from the entries, by relative import. */
function moduleClosure(entries) {
  const seen = new Set();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${relative(root, file)} is imported but missing: rebuild`);
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      queue.push(resolve(dirname(file), specifier));
    }
  }
  return [...seen].sort();
}

const modules = moduleClosure(entryModules());
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ['host.json', 'package.json', 'package-lock.json']) cpSync(join(root, file), join(out, file));
for (const file of modules) {
  const target = join(out, relative(root, file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
  // Source maps turn a stack trace in Application Insights back into TypeScript lines.
  if (existsSync(`${file}.map`)) cpSync(`${file}.map`, `${target}.map`);
}
// A .funcignore that excludes nothing: without one, packagers drop node_modules by default.
writeFileSync(join(out, '.funcignore'), '# Everything in this folder is the package (scripts/package-function.mjs).\n');
if (install) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: out,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
}
process.stdout.write(`package ready in ${out}: ${modules.length} modules\n`);
