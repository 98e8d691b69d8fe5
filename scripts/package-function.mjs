#!/usr/bin/env node
/**
 * Assembles the Function App's deployment package in `.deploy/` (azure.yaml `dist`): host.json,
 * package.json + lock, the compiled `dist/src` (run `npm run build` first; `npm run package:azure`
 * does both) and production dependencies only. The tests, benchmarks, DuckDB and Azurite stay out.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, '.deploy');

if (!existsSync(join(root, 'dist', 'src', 'functions'))) {
  process.stderr.write('dist/src/functions is missing: run `npm run build` first\n');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ['host.json', 'package.json', 'package-lock.json']) cpSync(join(root, file), join(out, file));
cpSync(join(root, 'dist', 'src'), join(out, 'dist', 'src'), { recursive: true });
// A .funcignore that excludes nothing: without one, packagers drop node_modules by default.
writeFileSync(join(out, '.funcignore'), '# Everything in this folder is the package (scripts/package-function.mjs).\n');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
execFileSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
  cwd: out,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
process.stdout.write(`package ready in ${out}\n`);
