/**
 * The Azure CLI as the operator's commands call it: `az` with an argument array, its answer read
 * from stdout, and a failure turned into an AzureCliError that quotes az's own error, redacted. A
 * secret never goes in the arguments, since any local user can read a process's command line: it
 * goes in a file only this user can read, passed to az as `@file` (withPrivateFile).
 */
import { type ExecFileException, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureCliError } from '../common/errors.js';
import { redact } from '../common/redact.js';

/** Runs az with these arguments and answers what it printed on stdout. */
export type AzureCli = (args: readonly string[]) => Promise<string>;

/** An az call waits for Azure, and a call that hangs must not hold a deployment forever. */
const TIMEOUT_MS = 5 * 60_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** How much of az's error an AzureCliError quotes: its last lines say what went wrong. */
const QUOTED_LINES = 12;

/**
 * Azure answers these while a deployment settles (the function not listed yet, the host starting or
 * throttling); a resource group, app or subscription not found is a mistake in the names instead.
 */
const TRANSIENT =
  /\b(?:Not ?Found|404|429|TooManyRequests|502|BadGateway|503|ServiceUnavailable|504|GatewayTimeout)\b|host runtime/i;
const WRONG_NAME = /\b(?:ResourceGroupNotFound|ResourceNotFound|SubscriptionNotFound)\b/;

export const runAzureCli: AzureCli = (args) => {
  // On Windows az is a batch file (az.cmd), which only a shell runs.
  const windows = process.platform === 'win32';
  return new Promise((resolve, reject) => {
    execFile(
      windows ? 'az.cmd' : 'az',
      windows ? args.map(cmdArgument) : [...args],
      { shell: windows, windowsHide: true, timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => (error ? reject(azureCliFailure(args, error, stderr)) : resolve(stdout)),
    );
  });
};

function azureCliFailure(args: readonly string[], error: ExecFileException, stderr: string): AzureCliError {
  const call = `\`az ${args.join(' ')}\``;
  if (error.code === 'ENOENT' || /is not recognized as an internal or external command/i.test(stderr)) {
    return new AzureCliError(
      'the Azure CLI (`az`) is not on PATH: install it (https://learn.microsoft.com/cli/azure/install-azure-cli) ' +
        'and sign in with `az login`, or set the keys by hand (docs/security.md, "Writes to Partner Center")',
      false,
      { cause: error },
    );
  }
  if (error.killed) {
    return new AzureCliError(`${call} did not finish within ${TIMEOUT_MS / 60_000} minutes`, true);
  }
  const said = quoted(stderr);
  const signIn = /\baz login\b/.test(stderr) ? " (azd's sign-in is not az's: run `az login`, then this again)" : '';
  return new AzureCliError(
    `${call} failed (exit ${String(error.code ?? error.signal)})${signIn}${said ? `: ${said}` : ''}`,
    TRANSIENT.test(stderr) && !WRONG_NAME.test(stderr),
  );
}

/** az's error, its last lines, with anything that looks like a key masked. */
function quoted(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return maskKeyLike(redact(lines.slice(-QUOTED_LINES).join(' | ')));
}

/**
 * Every key this program reads or makes is registered with redact() first; this catches one it never
 * saw: a long run of base64 characters mixing digits and both cases (a GUID is lower-case hex).
 */
export function maskKeyLike(text: string): string {
  return text.replace(/[A-Za-z0-9+_=-]{24,}/g, (run) =>
    /\d/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run) ? '***' : run,
  );
}

/**
 * cmd.exe reads the line az.cmd is given: an argument with anything but plain characters goes in
 * double quotes, inside which only `"` and `%` still mean something, so those are refused.
 */
function cmdArgument(arg: string): string {
  if (/["%\r\n]/.test(arg)) {
    throw new AzureCliError(`cannot pass ${JSON.stringify(arg)} to az.cmd through cmd.exe unchanged`);
  }
  return /^[\w@.,:/\\=+-]+$/.test(arg) ? arg : `"${arg}"`;
}

/**
 * Runs `use` with the path of a file holding `content`, in a new folder of the temp folder: readable
 * by this user only (the folder 0700, the file 0600), and gone once `use` has settled.
 */
export async function withPrivateFile<T>(content: string, use: (path: string) => Promise<T>): Promise<T> {
  const folder = await mkdtemp(join(tmpdir(), 'referrals-lake-'));
  try {
    const file = join(folder, 'body.json');
    await writeFile(file, content, { mode: 0o600, flag: 'wx' });
    return await use(file);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
