/**
 * `referrals-lake sync`: one run, the timer function's code path. On a TTY a progress bar; otherwise
 * JSON log lines on stderr. The last line of stdout is always the run summary (the manifest) as JSON.
 */
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { createLogger, type LogLevel } from '../common/log.js';
import type { RunManifest } from '../sync/manifest.js';
import { CliExit, EXIT } from './exit.js';
import { wholeNumber } from './options.js';

interface SyncFlags {
  mode?: 'full' | 'incremental';
  target?: string;
  dryRun?: boolean;
  concurrency?: number;
  allowShrink?: boolean;
}

export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description('Export referrals into the lake: one run, as the timer function does it.')
    .addOption(new Option('--mode <mode>', 'full or incremental (default: SYNC_MODE)').choices(['full', 'incremental']))
    .option('--target <where>', 'a folder, a container URL, or a connection string (default: LAKE_* settings)')
    .option('--dry-run', 'fetch and normalize everything, write nothing')
    .option('--concurrency <n>', 'date ranges fetched side by side (default: SYNC_CONCURRENCY)', positive)
    .option(
      '--allow-shrink',
      'publish a full run even when it removes more of referrals_latest than SYNC_MAX_VANISH_FRACTION (exit code 7 otherwise)',
    )
    .action(async (flags: SyncFlags) => {
      const bar = process.stderr.isTTY ? new ProgressBar() : undefined;
      const logger = createLogger(
        (level: LogLevel, line) => {
          if (!bar) process.stderr.write(`${line}\n`);
          else if (level === 'error' || level === 'warn') bar.interrupt(line);
        },
        { level: 'info' },
      );
      const controller = new AbortController();
      const stop = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let manifest: RunManifest;
      try {
        // Loaded here: the other commands, and --help, need none of the sync's code.
        const { runSyncJob } = await import('../sync/job.js');
        const { targetFromOption } = await import('./target-option.js');
        manifest = await runSyncJob(
          process.env,
          {
            mode: flags.mode,
            concurrency: flags.concurrency,
            dryRun: flags.dryRun,
            allowShrink: flags.allowShrink,
            target: flags.target ? await targetFromOption(flags.target, process.env) : undefined,
          },
          { logger, onProgress: bar?.update, signal: controller.signal },
        );
      } finally {
        bar?.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      process.stdout.write(`${JSON.stringify(manifest)}\n`);
      if (manifest.status === 'nothing_to_do') throw new CliExit(EXIT.nothingToDo);
    });
}

function positive(value: string): number {
  const n = wholeNumber(value);
  if (n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** Pages, referrals, rate, and an ETA when Partner Center says how many there are. */
class ProgressBar {
  private readonly bar = new SingleBar({
    format: ' {bar} {referrals} referrals | {pages} pages | {rate}/s | ETA {eta_formatted}',
    hideCursor: true,
    stream: process.stderr,
  });
  private started = false;
  private readonly began = performance.now();

  update = (progress: { pages: number; referrals: number; total?: number }): void => {
    const rate = Math.round(progress.referrals / Math.max(0.001, (performance.now() - this.began) / 1000));
    const total = progress.total && progress.total >= progress.referrals ? progress.total : progress.referrals + 1;
    const payload = { referrals: progress.referrals, pages: progress.pages, rate };
    if (!this.started) {
      this.bar.start(total, progress.referrals, payload);
      this.started = true;
    } else {
      this.bar.setTotal(total);
      this.bar.update(progress.referrals, payload);
    }
  };

  interrupt(line: string): void {
    process.stderr.write(`\n${line}\n`);
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
