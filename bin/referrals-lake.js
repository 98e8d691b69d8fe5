#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript (run `npm run build` first).
import { main } from '../dist/dev/cli/main.js';

process.exitCode = await main(process.argv);
