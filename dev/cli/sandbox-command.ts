/**
 * `referrals-lake sandbox`: runs the local Partner Center until SIGINT/SIGTERM. Once listening it
 * prints exactly one JSON line on stdout, `{"baseUrl", "env"}`, so a script can start it, read the
 * line, and point a sync (or a webhook registration and receiver) at it with those settings.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { wholeNumber } from '../../src/cli/options.js';
import { untilStopped } from './until-stopped.js';

interface SandboxFlags {
  port: number;
  host: string;
  count: number;
  seed: number;
  pageSize: number;
  maxPageSize?: number;
  latencyMs: number;
  latencyJitterMs: number;
  faults?: string;
  data?: string;
  nextLink: 'seed' | 'clean';
  topMode: 'page-size' | 'limit';
  tokenLifetime: number;
  tlsDir?: string;
  webhookRetryDelays?: number[];
  webhookResourceBase?: string;
}

/** `1000,2000,4000`: waits between webhook delivery attempts, in ms. */
function delayList(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  const delays = parts.map(Number);
  if (parts.some((part) => part === '') || delays.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new InvalidArgumentError('expected whole numbers of ms ≥ 0, comma-separated');
  }
  return delays;
}

export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description('Serve a local Partner Center Referrals API and token endpoint (HTTPS on 127.0.0.1).')
    .option('--port <n>', 'port to listen on (0 picks a free one)', wholeNumber, 0)
    .option('--host <address>', 'loopback address to bind', '127.0.0.1')
    .option('--count <n>', 'seeded referrals to generate', wholeNumber, 5000)
    .option('--seed <n>', 'seed for data and faults', wholeNumber, 1)
    .option('--page-size <n>', 'default page size', wholeNumber, 100)
    .option('--max-page-size <n>', 'largest page size honoured for $top', wholeNumber)
    .option('--latency-ms <n>', 'delay before every API answer', wholeNumber, 0)
    .option('--latency-jitter-ms <n>', 'extra random delay, up to this', wholeNumber, 0)
    .option('--faults <spec>', 'faults to inject, e.g. "429(rate=0.1,retryAfter=1),5xx(rate=0.05,burst=3)"')
    .option('--data <file>', 'serve referrals from a JSON or NDJSON file instead of generating them')
    .addOption(
      new Option('--next-link <style>', 'nextLink as in the docs example, or clean')
        .choices(['seed', 'clean'])
        .default('seed'),
    )
    .addOption(
      new Option('--top-mode <mode>', '$top as page size or as a limit')
        .choices(['page-size', 'limit'])
        .default('page-size'),
    )
    .option('--token-lifetime <seconds>', 'access token lifetime', wholeNumber, 3600)
    .option('--tls-dir <dir>', 'where the sandbox CA and certificate are kept')
    .option('--webhook-retry-delays <ms,...>', 'waits between the 10 webhook delivery attempts', delayList)
    .option('--webhook-resource-base <url>', "origin of the events' ResourceUri (default Partner Center's)")
    .action(async (flags: SandboxFlags) => {
      const latency = flags.latencyMs > 0 || flags.latencyJitterMs > 0;
      const faults = [
        flags.faults,
        latency ? `latency(ms=${flags.latencyMs},jitter=${flags.latencyJitterMs})` : undefined,
      ]
        .filter(Boolean)
        .join(',');
      const { startSandbox } = await import('../../sandbox/sandbox.js');
      const sandbox = await startSandbox({
        host: flags.host,
        port: flags.port,
        count: flags.count,
        seed: flags.seed,
        dataFile: flags.data,
        defaultPageSize: flags.pageSize,
        maxPageSize: flags.maxPageSize,
        faults,
        nextLinkStyle: flags.nextLink,
        topMode: flags.topMode,
        accessTokenLifetimeSeconds: flags.tokenLifetime,
        tlsDir: flags.tlsDir,
        webhooks: { retryDelaysMs: flags.webhookRetryDelays, resourceBase: flags.webhookResourceBase },
      });
      process.stdout.write(`${JSON.stringify({ baseUrl: sandbox.baseUrl, env: sandbox.env })}\n`);
      await untilStopped();
      await sandbox.close();
    });
}
