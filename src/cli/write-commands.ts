/**
 * `referrals-lake accept|decline|patch <id>`: an operator's writes, through the same code as the
 * HTTP write routes (src/actions/act.ts): checked before sending, conditional on the eTag, audited
 * in the lake's `_audit/` as `cli:<user>`. Lines for the operator go to stderr; the last line of
 * stdout is the result as JSON (the referral after the change as the lake's flat row, or the
 * problem). Exit 0 done; 3 the change was refused (rules, or Partner Center); 9 the referral
 * changed since the version --if-match names; 1 anything else.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { WriteOutcome, WriteRequest } from '../actions/act.js';
import { createLogger, stderrSink } from '../common/log.js';
import { loadLakeConfig } from '../config.js';
import { CliExit, EXIT } from './exit.js';
import { withPartnerCenterSource } from './partner-center-source.js';

interface WriteFlags {
  readonly ifMatch?: string;
  readonly target?: string;
}

export function registerWriteCommands(program: Command): void {
  const common = (command: Command) =>
    command
      .option('--if-match <etag>', 'the eTag the change was decided on (412, exit 9, if the referral moved on)')
      .option('--target <lake>', 'the lake the attempt is audited in (a folder, container URL or connection string)');
  common(
    program
      .command('accept <id>')
      .description('Accept an incoming lead waiting for an answer (New → Active / Accepted).'),
  ).action((id: string, flags: WriteFlags) => runWrite({ action: 'accept', referralId: id }, flags));
  common(
    program
      .command('decline <id>')
      .description('Decline an incoming lead waiting for an answer (New → Closed / Declined).')
      .requiredOption('--reason <reason>', 'one of the offered decline reasons'),
  ).action((id: string, flags: WriteFlags & { reason: string }) =>
    runWrite({ action: 'decline', referralId: id, input: { reason: flags.reason } }, flags),
  );
  common(
    program
      .command('patch <id>')
      .description(
        'Change whitelisted fields: status, substatus, statusReason, dealValue, currency, closingDateTime, notes, team.',
      )
      .requiredOption('--json <object>', 'the fields to change, e.g. \'{"dealValue": 125000, "currency": "EUR"}\''),
  ).action((id: string, flags: WriteFlags & { json: string }) =>
    runWrite({ action: 'patch', referralId: id, input: parseJson(flags.json) }, flags),
  );
}

async function runWrite(
  asked: Pick<WriteRequest, 'action' | 'referralId' | 'input'>,
  flags: WriteFlags,
): Promise<void> {
  const { writeReferral } = await import('../actions/act.js');
  const { flatLine, flatRow } = await import('../live/encode.js');
  const logger = createLogger(stderrSink);
  const target = flags.target
    ? await (await import('./target-option.js')).targetFromOption(flags.target, process.env)
    : await (await import('../lake/storage/create-target.js')).createStorageTarget(loadLakeConfig());
  const outcome: WriteOutcome = await withPartnerCenterSource((source) =>
    writeReferral(
      { client: source.client, target, logger },
      {
        ...asked,
        ...(flags.ifMatch !== undefined ? { ifMatch: flags.ifMatch } : {}),
        caller: `cli:${userInfo().username}`,
        correlationId: source.client.correlationId,
      },
    ),
  );
  if (outcome.kind === 'done') {
    const row = flatRow(outcome.referral, `cli-${Date.now()}`, Date.now() * 1000);
    process.stderr.write(
      `${asked.action}: referral ${asked.referralId} is now ${outcome.referral.status}/${outcome.referral.substatus}\n`,
    );
    process.stdout.write(`${row ? flatLine(row, 1) : JSON.stringify(outcome.referral)}\n`);
    return;
  }
  // A failure (Partner Center down, sign-in gone) is the CLI's usual error, with its usual exit code.
  if (outcome.kind === 'failed') throw outcome.error;
  process.stderr.write(`${asked.action}: ${outcome.title}: ${outcome.detail}\n`);
  process.stdout.write(
    `${JSON.stringify({ status: outcome.status, title: outcome.title, detail: outcome.detail, target: outcome.target })}\n`,
  );
  throw new CliExit(outcome.status === 412 ? EXIT.stale : outcome.status === 400 ? EXIT.configInvalid : EXIT.failure);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    process.stderr.write('--json is not JSON\n');
    throw new CliExit(EXIT.usage);
  }
}
