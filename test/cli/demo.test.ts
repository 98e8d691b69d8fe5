/**
 * `referrals-lake demo` as a person runs it: the built CLI, a bare environment (PATH and HOME only),
 * run from an empty folder so its `.data/` lands there. It must sync the 5,000 sandbox referrals into
 * Azurite, print the summary, the blob tree, one event travelling (a flow accepting a lead) through
 * `referrals-lake serve` into the lake, and five rows read back from the Parquet, leave a local copy
 * for the DuckDB hint, and stop serve and Azurite before it exits. A second run in the same folder
 * starts from an empty lake again (the first run's token cache and lease must not get in its way).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbHints } from '../../src/analytics/duckdb-hints.js';
import { AZURITE_KEY } from '../helpers/azurite.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { replayDeltaLog } from '../helpers/delta-replay.js';

type Run = CliRun;

function demo(cwd: string): Promise<Run> {
  return runCli(['demo'], { cwd, env: { HOME: process.env.HOME ?? cwd } });
}

/** True when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function azuritePort(stdout: string): number {
  const match = /Azurite \(blob\)\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
  expect(match, 'the demo names the port Azurite listened on').not.toBeNull();
  return Number(match?.[1]);
}

/** The lines of the section that starts with a line matching `heading`, up to the next blank line. */
function section(stdout: string, heading: RegExp): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  expect(start, `a section headed ${heading}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

describe('referrals-lake demo', () => {
  let work: string;
  let first: Run;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'demo-test-'));
    first = await demo(work);
  }, 120_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('exits 0, quietly', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
  });

  it('prints the run summary of a full sync of the 5,000 sandbox referrals', () => {
    expect(first.stdout).toMatch(/^\s+run\s+\d{8}T\d{6}Z-[0-9a-f]{4}\s+\(full, succeeded/m);
    expect(first.stdout).toMatch(/^\s+referrals\s+5,000 in [\d.]+ s = [\d,]+\/s/m);
    expect(first.stdout).toMatch(/^\s+requests\s+\d+ pages/m);
    expect(first.stdout).toMatch(/^\s+rows\s+referrals\s+5,000\s/m);
    for (const table of ['referral_products', 'referral_team_members', 'referral_targets']) {
      expect(first.stdout).toMatch(new RegExp(`${table}\\s+[\\d,]+`));
    }
  });

  it('prints the blob tree grouped by folder, with the partition layout of the referrals table', () => {
    const tree = section(first.stdout, /^The lake: container referrals-lake, \d+ files/).join('\n');
    expect(tree).toMatch(
      /^ {2}referrals\/\s+2 files.*\n {4}_delta_log\/\s+1 file.*\n {4}snapshot_date=\d{4}-\d{2}-\d{2}\/\n {6}run_id=\d{8}T\d{6}Z-[0-9a-f]{4}\/\n {8}part-00000\.parquet\s+[\d.]+ MB\n/m,
    );
    for (const folder of [
      'referral_*/',
      'raw/snapshot_date=…/run_id=…/',
      'referrals_latest/',
      'referral_*_latest/',
      'referral_versions/',
      'ndjson/<table>/snapshot_date=…/run_id=…/',
      'ndjson/<table>_latest/',
      '_runs/',
      '_state/',
    ]) {
      expect(tree).toContain(`  ${folder} `);
    }
    expect(tree.split('\n').length).toBeLessThan(25);
  });

  it('previews five rows read back from the Parquet of referrals_latest', () => {
    const preview = section(
      first.stdout,
      /^The 5 newest of 5,000 rows of the Delta table referrals_latest \(referrals_latest\/part-00000-[0-9a-f-]{36}-c000\.snappy\.parquet\)/,
    );
    expect(preview[0]).toMatch(/referral_id\s+created_date_time\s+status\s+substatus\s+direction\s+customer_name/);
    const rows = preview.slice(1);
    expect(rows).toHaveLength(5);
    for (const row of rows)
      expect(row).toMatch(/^ {2}[0-9a-f]{8}…\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+(New|Active|Closed)\s/);
  });

  it('says how to look further, and the local copy it points at is there', async () => {
    // The DuckDB hints read the NDJSON copies offline (test/analytics runs them on a synced lake).
    for (const hint of duckdbHints('.data/demo-lake')) expect(first.stdout).toContain(`duckdb -c "${hint}"`);
    expect(first.stdout).toContain('npx azurite-blob --location .data/azurite');
    expect(first.stdout).toContain('UseDevelopmentStorage=true');
    // The copy holds the Delta table: its log, and the data file that log names.
    const table = join(work, '.data', 'demo-lake', 'referrals_latest');
    const replayed = replayDeltaLog(table);
    expect(replayed.active.size).toBe(1);
    for (const path of replayed.active.keys()) expect((await stat(join(table, path))).size).toBeGreaterThan(0);
    expect(await readdir(join(work, '.data', 'azurite'))).toContain('__blobstorage__');
  });

  it('shows one event travelling: a flow accepting a lead, its webhook, the queue, the event run, the row before and after, the trigger', () => {
    const lines = section(first.stdout, /^One event, travelling: a flow accepts a lead → /);
    const receiver = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/api\/partner-center\/events), is registered with the sandbox/m;
    expect(lines.join('\n')).toMatch(receiver);
    const steps = lines.filter((line) => /^ {2}\+\d+\.\d{3} s {2}/.test(line));
    expect(steps.map((line) => line.split(/\s{2,}/)[2])).toEqual([
      'flow',
      'webhook',
      'receiver',
      'worker',
      'event run',
      'lake',
      'trigger',
    ]);
    const times = steps.map((line) => Number(/\+([\d.]+) s/.exec(line)?.[1]));
    expect(times[0]).toBe(0);
    // The receiver queues before it answers; the worker and the lake follow in order, within seconds.
    expect(times.slice(2)).toEqual([...times.slice(2)].sort((a, b) => a - b));
    expect(times.at(-1)).toBeLessThan(20);
    expect(steps[1]).toMatch(/referral-updated, RSA-signed, POSTed to the receiver/);
    expect(steps[2]).toMatch(/signature checked, event queued; answered 200/);
    expect(steps[3]).toMatch(/processReferralEvents took the message \(dequeueCount 1\)/);
    const runId = /event run\s+(\d{8}T\d{6}Z-[0-9a-f]{4}) published/.exec(steps[4] ?? '')?.[1];
    expect(runId).toBeDefined();
    const changed = /POST \/api\/referrals\/([0-9a-f]{8})…\/accept answered 200: accepted in Partner Center/.exec(
      steps[0] ?? '',
    )?.[1];
    expect(changed).toBeDefined();
    expect(steps[6]).toContain(`answered 200 with 1 change (referral ${changed}…)`);

    const header = lines.findIndex((line) =>
      /^ {2}referral_id\s+status\s+substatus\s+updated_date_time\s+_run_id/.test(line),
    );
    const [before, after] = lines.slice(header + 1).map((line) => line.trim().split(/\s{2,}/));
    const fullRun = /^\s+run\s+(\d{8}T\d{6}Z-[0-9a-f]{4})/m.exec(first.stdout)?.[1];
    expect(before?.[0]).toBe(`${changed}…`);
    expect(after?.[0]).toBe(before?.[0]);
    // The lead as the full sync saw it, waiting; then as the flow left it.
    expect(before?.[1]).toBe('New');
    expect(['Pending', 'Received']).toContain(before?.[2]);
    expect(after?.slice(1, 3)).toEqual(['Active', 'Accepted']);
    expect(before?.slice(4)).toEqual([fullRun, 'before: the full sync']);
    expect(after?.slice(4)).toEqual([runId, 'after: the event run']);
    // The event carried a change: the row's updatedDateTime moved forward.
    expect(Date.parse(`${after?.[3]}Z`)).toBeGreaterThan(Date.parse(`${before?.[3]}Z`));
  });

  it('never prints the storage account key', () => {
    expect(first.stdout).not.toContain(AZURITE_KEY);
    expect(first.stdout).not.toMatch(/AccountKey/i);
  });

  it('stops serve and Azurite before it exits', async () => {
    expect(first.stdout).toMatch(/^Stopped serve, the sandbox and Azurite\. Demo took [\d.]+ s\.$/m);
    expect(await listening(azuritePort(first.stdout))).toBe(false);
    const servePort = Number(/`referrals-lake serve` \(http:\/\/127\.0\.0\.1:(\d+)\)/.exec(first.stdout)?.[1]);
    expect(servePort).toBeGreaterThan(0);
    expect(await listening(servePort)).toBe(false);
  });

  it('runs again in the same folder, from an empty lake', async () => {
    const second = await demo(work);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^\s+referrals\s+5,000 in /m);
    const tree = section(second.stdout, /^The lake: container referrals-lake/).join('\n');
    expect(tree.match(/run_id=\d/g)).toHaveLength(1);
    expect(await listening(azuritePort(second.stdout))).toBe(false);
  }, 120_000);
});
