/**
 * `referrals-lake` as a clone runs it (bin/referrals-lake.js): the operator's commands from
 * src/cli, plus the development commands that need the sandbox and the dev tools.
 */
import { main as appMain } from '../../src/cli/main.js';
import { registerDemoCommand } from './demo-command.js';
import { registerSandboxCommand } from './sandbox-command.js';
import { registerServeCommand } from './serve-command.js';

export function main(argv: readonly string[]): Promise<number> {
  return appMain(argv, (program) => {
    program.description('Export Partner Center referrals to a data lake, and run the local Partner Center sandbox.');
    registerSandboxCommand(program);
    registerServeCommand(program);
    registerDemoCommand(program);
  });
}
