/**
 * `referrals-lake serve`: hosts the registered HTTP functions (the live list, one referral, the
 * OpenAPI description) on 127.0.0.1 through dev/http-host.ts, with the app settings of this
 * process's environment. Once listening it prints exactly one JSON line on stdout,
 * `{"baseUrl", "functionKey"}`, then serves until SIGINT/SIGTERM. For development and the demo;
 * `func start` (or Azure) is the production host.
 */
import type { Command } from 'commander';
import { wholeNumber } from '../../src/cli/options.js';
import { untilStopped } from './until-stopped.js';

interface ServeFlags {
  port: number;
  key?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Host the HTTP functions (GET /api/referrals …) on 127.0.0.1, where Core Tools are absent.')
    .option('--port <n>', 'port to listen on (0 picks a free one)', wholeNumber, 7071)
    .option('--key <key>', 'function key to require (default: a random one, printed)')
    .action(async (flags: ServeFlags) => {
      // Loaded here, not with the CLI: importing the registrations switches @azure/functions into
      // test mode, which warns on stderr, and no other command should print that.
      const { startHttpHost } = await import('../http-host.js');
      const { resetLiveInstance } = await import('../../src/live/instance.js');
      const host = await startHttpHost({ port: flags.port, functionKey: flags.key });
      process.stdout.write(`${JSON.stringify({ baseUrl: host.baseUrl, functionKey: host.functionKey })}\n`);
      await untilStopped();
      await host.close();
      resetLiveInstance();
    });
}
