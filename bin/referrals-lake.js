#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript (run `npm run build` first). A sync without the
// process tuning runs in a tuned child process instead (src/cli/relaunch.ts), before the CLI loads.
import { relaunchTuned } from '../dist/src/cli/relaunch.js';

const relaunched = relaunchTuned(process.argv);
if (relaunched) {
  process.exitCode = await relaunched;
} else {
  const { main } = await import('../dist/dev/cli/main.js');
  process.exitCode = await main(process.argv);
}
