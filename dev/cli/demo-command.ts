/**
 * `referrals-lake demo`: the whole pipeline on one machine, with no Azure account, no Core Tools and
 * no config. It starts the sandbox (5,000 seeded referrals) and Azurite (blobs kept in
 * `<data-dir>/azurite`, emptied first so every demo starts from an empty lake), runs one full sync
 * through runSyncJob (the timer function's code path), then prints the run summary, the blob tree,
 * five rows read back from the Parquet with DuckDB, and how to look further; it copies the lake to
 * `<data-dir>/demo-lake` for that. Whatever happens (failure, Ctrl+C), it stops what it started.
 *
 * Azurite and DuckDB are devDependencies: both are loaded only when the demo runs.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { DUCKDB_DELTA_NOTE, duckdbHints } from '../../src/analytics/duckdb-hints.js';
import { CliExit } from '../../src/cli/exit.js';
import { createLogger, type LogLevel } from '../../src/common/log.js';
import { listAll, type StorageTarget, type StoredObject } from '../../src/lake/storage/storage.js';
import { TABLE_NAMES } from '../../src/schema/tables.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { type Azurite, startAzurite } from '../azurite.js';
import { type Out, printTable, shown } from './print.js';
import { type ServeChild, startServeChild } from './serve-child.js';

const REFERRALS = 5000;
const SEED = 1;
const CONTAINER = 'referrals-lake';
const PREVIEW_ROWS = 5;
/** Exit code after Ctrl+C / SIGTERM, as shells report a process ended by SIGINT. */
const INTERRUPTED = 130;

interface DemoFlags {
  dataDir: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Start the sandbox and Azurite, run one full sync into the lake, show what landed (no Azure account needed).',
    )
    .option('--data-dir <dir>', 'folder for the demo lake: Azurite data and a local copy', '.data')
    .action((flags: DemoFlags) => runDemo(resolve(flags.dataDir)));
}

async function runDemo(dataDir: string): Promise<void> {
  const began = performance.now();
  const azuriteDir = join(dataDir, 'azurite');
  const copyDir = join(dataDir, 'demo-lake');
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${signal}: stopping serve, the sandbox and Azurite…\n`);
      controller.abort(new Error(`interrupted by ${signal}`));
    } else {
      // A second Ctrl+C: give up waiting. Azurite is killed by its own 'exit' hook (dev/azurite.ts).
      process.exit(INTERRUPTED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stops: (() => Promise<void>)[] = [];
  let serving: Promise<ServeChild> | undefined;
  try {
    out(
      'referrals-lake demo: the sandbox Partner Center → one full sync → a lake on Azurite → one event through `referrals-lake serve`, all on this machine',
    );
    out();
    await Promise.all([
      rm(azuriteDir, { recursive: true, force: true }),
      rm(copyDir, { recursive: true, force: true }),
    ]);
    const [sandbox, azurite] = await startBoth(stops, azuriteDir);
    controller.signal.throwIfAborted();
    printStarted(out, sandbox, azurite, azuriteDir);
    // serve starts while the sync runs: until the demo sends an event it only polls the queue.
    serving = startServe(sandbox, azurite);
    serving.catch(() => undefined); // awaited below, and by stopServe()

    out('One full sync through runSyncJob, the code path of the timer function and `referrals-lake sync`…');
    const manifest = await sync(sandbox, azurite, controller.signal);
    printSummary(out, manifest);

    const { BlobStorageTarget } = await import('../../src/lake/storage/blob-storage-target.js');
    const lake = new BlobStorageTarget({ connectionString: azurite.connectionString, container: CONTAINER });
    printTree(out, await listAll(lake, ''));

    // The file this run committed as the latest table's one version (its Delta log names it).
    const latest = manifest.latest.find((f) => f.table === 'referrals_latest' && f.format === 'parquet');
    if (!latest) throw new Error('the run committed no referrals_latest file');
    const { showOneEvent } = await import('./demo-event.js');
    // The lake is copied once, after the event run, so that the copy the hints point at has it too.
    const [newest] = await showOneEvent(out, {
      sandbox,
      serve: await serving,
      lake,
      fullSyncLatest: latest.path,
      copy: async () => copyLake(lake, await listAll(lake, ''), copyDir),
      copyDir,
    });
    controller.signal.throwIfAborted();
    if (!newest) throw new Error('referrals_latest has no file after the event run');
    await printPreview(out, copyDir, newest);
    printHints(out, copyDir, azuriteDir);
  } catch (error) {
    if (controller.signal.aborted) {
      await stopServe(serving);
      await stopAll(stops);
      process.stderr.write('Demo interrupted; serve, the sandbox and Azurite are stopped.\n');
      throw new CliExit(INTERRUPTED);
    }
    throw error;
  } finally {
    await stopServe(serving);
    await stopAll(stops);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  out(`Stopped serve, the sandbox and Azurite. Demo took ${seconds(began).toFixed(1)} s.`);
}

/** Starts both side by side; whichever started is registered for stopping even if the other fails. */
async function startBoth(stops: (() => Promise<void>)[], azuriteDir: string): Promise<[Sandbox, Azurite]> {
  const { startSandbox } = await import('../../sandbox/sandbox.js');
  const [sandbox, azurite] = await Promise.allSettled([
    startSandbox({ count: REFERRALS, seed: SEED }).then((s) => {
      stops.push(() => s.close());
      return s;
    }),
    startAzurite({ location: azuriteDir }).then((a) => {
      stops.push(() => a.stop());
      return a;
    }),
  ]);
  if (sandbox.status === 'rejected') throw sandbox.reason;
  if (azurite.status === 'rejected') throw azurite.reason;
  return [sandbox.value, azurite.value];
}

async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  const pending = stops.splice(0);
  await Promise.allSettled(pending.map((stop) => stop()));
}

/** `referrals-lake serve` against the demo's lake and events queue, with the sandbox's settings. */
function startServe(sandbox: Sandbox, azurite: Azurite): Promise<ServeChild> {
  return startServeChild({
    ...appSettings(sandbox, azurite),
    EVENTS_QUEUE: azurite.connectionString,
    // The demo's change is a flow accepting a lead through the write route.
    LIVE_WRITES_ENABLED: 'true',
  });
}

/** serve, once it has started (or failed to): stopped before the sandbox and Azurite, whose queue it polls. */
async function stopServe(serving: Promise<ServeChild> | undefined): Promise<void> {
  await serving?.then(
    (serve) => serve.stop(),
    () => undefined,
  );
}

/** The app settings of the demo's sync and of serve: the sandbox, and the lake on Azurite (token cache in it). */
function appSettings(sandbox: Sandbox, azurite: Azurite): Record<string, string> {
  return {
    ...sandbox.env,
    LAKE_CONNECTION_STRING: azurite.connectionString,
    LAKE_CONTAINER: CONTAINER,
    PARTNER_CENTER_TOKEN_CACHE: 'lake',
  };
}

async function sync(sandbox: Sandbox, azurite: Azurite, signal: AbortSignal): Promise<RunManifest> {
  const progress = process.stderr.isTTY ? new ProgressLine() : undefined;
  // Quiet: only warnings and errors, on stderr (the JSON lines every entry point logs). After Ctrl+C,
  // none: what fails then (Azurite got the SIGINT too) is the interruption, already reported.
  const logger = createLogger(
    (_level: LogLevel, line) => {
      if (signal.aborted) return;
      progress?.clear();
      process.stderr.write(`${line}\n`);
    },
    { level: 'warn' },
  );
  try {
    const { runSyncJob } = await import('../../src/sync/job.js');
    return await runSyncJob(
      appSettings(sandbox, azurite),
      { mode: 'full' },
      { logger, onProgress: progress?.update, signal },
    );
  } finally {
    progress?.clear();
  }
}

/** One line on a TTY's stderr, rewritten in place: referrals and pages so far. */
class ProgressLine {
  private shown = false;

  update = (progress: { pages: number; referrals: number; total?: number }): void => {
    const total = progress.total ? ` of ${count(progress.total)}` : '';
    process.stderr.write(`\r\x1b[K  ${count(progress.referrals)}${total} referrals, ${progress.pages} pages`);
    this.shown = true;
  };

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

// ---------------------------------------------------------------------------------------------
// What the demo prints

function printStarted(out: Out, sandbox: Sandbox, azurite: Azurite, azuriteDir: string): void {
  printTable(out, [
    ['Sandbox', sandbox.baseUrl, `Partner Center Referrals API + Entra ID, ${count(REFERRALS)} seeded referrals`],
    ['Azurite (blob)', `http://127.0.0.1:${azurite.port}`, `blobs kept in ${shown(azuriteDir)}/ (emptied first)`],
  ]);
  out();
}

function printSummary(out: Out, m: RunManifest): void {
  const tables = Object.entries(m.counts.rows);
  const half = Math.ceil(tables.length / 2);
  const nameWidth = Math.max(...tables.map(([name]) => name.length));
  const rowsWidth = Math.max(...tables.map(([, rows]) => count(rows).length));
  const cell = (entry: [string, number] | undefined) =>
    entry ? `${entry[0].padEnd(nameWidth)}  ${count(entry[1]).padStart(rowsWidth)}` : '';
  const rowLines = tables.slice(0, half).map((entry, i) => `${cell(entry)}    ${cell(tables[half + i])}`.trimEnd());
  const c = m.client;
  const extra = [
    m.counts.duplicatesDropped ? `${count(m.counts.duplicatesDropped)} duplicates dropped` : '',
    m.counts.supersededVersions ? `${count(m.counts.supersededVersions)} updated mid-pull` : '',
    `${count(m.counts.quarantined)} quarantined`,
  ].filter(Boolean);
  printTable(out, [
    ['run', `${m.runId}  (${m.mode}, ${m.status}, snapshot_date ${m.snapshotDate})`],
    [
      'referrals',
      `${count(m.counts.referrals)} in ${m.durationSeconds.toFixed(1)} s = ${count(Math.round(m.referralsPerSecond))}/s; ${extra.join(', ')}`,
    ],
    [
      'requests',
      `${count(c.pages)} pages in ${m.source.ranges} date ranges (concurrency ${m.source.concurrency}), ${c.retries} retries, ${c.throttled} throttled, ${size(c.bytes)} received`,
    ],
    ...rowLines.map((line, i) => [i === 0 ? 'rows' : '', line]),
  ]);
  out();
}

/**
 * The container grouped so that the layout shows, not every file: the `referrals` table and
 * `referrals_latest/` down to their files, the child tables and their latest twins one line each,
 * then the history tables, the NDJSON copies, the quarantine, `raw/`, `_runs/` and `_state/`.
 */
function printTree(out: Out, files: readonly StoredObject[]): void {
  const byTop = new Map<string, StoredObject[]>();
  for (const file of files) {
    const top = file.path.includes('/') ? (file.path.split('/')[0] ?? '') : '';
    byTop.set(top, [...(byTop.get(top) ?? []), file]);
  }
  const take = (tops: readonly string[]): StoredObject[] =>
    tops.flatMap((top) => {
      const found = byTop.get(top) ?? [];
      byTop.delete(top);
      return found;
    });
  const children = TABLE_NAMES.filter((t) => t !== 'referrals');
  const rows: string[][] = [];
  const line = (label: string, group: readonly StoredObject[], note = '') => {
    if (group.length > 0) rows.push([label, fileCount(group.length), size(total(group)), note]);
  };
  const fileLines = (group: readonly StoredObject[], indent: string) => {
    for (const file of [...group].sort(parquetFirst)) {
      rows.push([`${indent}${file.path.slice(file.path.lastIndexOf('/') + 1)}`, '', size(file.size)]);
    }
  };

  const main = take(['referrals']);
  line('referrals/', main, 'Delta table: one append per run, partitioned by snapshot_date');
  for (const [folder, inFolder] of groupBy(main, (f) => f.path.split('/')[1] ?? '')) {
    if (folder === '_delta_log') {
      line('  _delta_log/', inFolder, 'the log: which files are the table, version by version');
      continue;
    }
    rows.push([`  ${folder}/`]);
    for (const [run, inRun] of groupBy(inFolder, (f) => f.path.split('/')[2] ?? '')) {
      rows.push([`    ${run}/`]);
      fileLines(inRun, '      ');
    }
  }
  line('referral_*/', take(children), `${children.length} child tables, Delta tables likewise`);
  line(
    'quarantine/snapshot_date=…/run_id=…/',
    take(['quarantine']),
    'values the normalizer could not keep as sent, if any',
  );
  const raw = take(['raw']);
  const rawNames = [...new Set(raw.map((f) => f.path.slice(f.path.lastIndexOf('/') + 1)))].join(', ');
  line('raw/snapshot_date=…/run_id=…/', raw, `${rawNames}: the API objects as received`);
  const latest = take(['referrals_latest']);
  line('referrals_latest/', latest, 'Delta table: every referral at its newest version, one commit each run');
  fileLines(latest, '  ');
  line(
    'referral_*_latest/',
    take(children.map((t) => `${t}_latest`)),
    `the ${children.length} child tables, Delta tables likewise`,
  );
  line('referral_versions/', take(['referral_versions']), 'Delta table: every version of every referral seen');
  line('referrals_vanished/', take(['referrals_vanished']), 'Delta table: referrals that left the book');
  const ndjson = take(['ndjson']);
  const latestCopy = (f: StoredObject) => (f.path.split('/')[1] ?? '').endsWith('_latest');
  line(
    'ndjson/<table>/snapshot_date=…/run_id=…/',
    ndjson.filter((f) => !latestCopy(f)),
    "NDJSON copies of each run's rows (and the referral keys), for line readers",
  );
  line('ndjson/<table>_latest/', ndjson.filter(latestCopy), 'NDJSON copies of the latest tables');
  line('_runs/', take(['_runs']), 'one manifest per run (the summary above), written last');
  const state = take(['_state']);
  line('_state/', state, state.map((f) => f.path.slice('_state/'.length)).join(', '));
  for (const [top, group] of [...byTop].sort(([a], [b]) => (a < b ? -1 : 1))) line(top ? `${top}/` : '(root)', group);

  out(`The lake: container ${CONTAINER}, ${count(files.length)} files, ${size(total(files))}`);
  printTable(out, rows, [false, true, true, false]);
  out();
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))) {
    groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  }
  return groups;
}

function parquetFirst(a: StoredObject, b: StoredObject): number {
  const rank = (f: StoredObject) => (f.path.endsWith('.parquet') ? 0 : 1);
  return rank(a) - rank(b) || (a.path < b.path ? -1 : 1);
}

function fileCount(n: number): string {
  return `${count(n)} ${n === 1 ? 'file ' : 'files'}`;
}

/** Copies every blob into `dir` (same relative paths), a few at a time. */
async function copyLake(lake: StorageTarget, files: readonly StoredObject[], dir: string): Promise<void> {
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const body = await lake.openRead(file.path);
      if (!body) continue;
      const local = join(dir, ...file.path.split('/'));
      await mkdir(dirname(local), { recursive: true });
      await pipeline(Readable.from(body), createWriteStream(local));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function printPreview(out: Out, copyDir: string, lakePath: string): Promise<void> {
  const parquetFile = join(copyDir, ...lakePath.split('/'));
  const { sqlString, withDuckDb } = await import('./duckdb.js');
  await withDuckDb(async (connection) => {
    const source = `read_parquet(${sqlString(parquetFile)})`;
    const total = await connection.runAndReadAll(`SELECT count(*) AS n FROM ${source}`);
    const n = Number(total.getRowObjectsJS()[0]?.n ?? 0);
    const reader = await connection.runAndReadAll(
      `SELECT referral_id, created_date_time, status, substatus, direction, customer_name,
              details_deal_value, details_currency
       FROM ${source} ORDER BY created_date_time DESC, referral_id LIMIT ${PREVIEW_ROWS}`,
    );
    const rows = reader
      .getRowObjectsJS()
      .map((r) => [
        `${String(r.referral_id).slice(0, 8)}…`,
        r.created_date_time instanceof Date ? r.created_date_time.toISOString().slice(0, 16).replace('T', ' ') : '',
        text(r.status),
        text(r.substatus),
        text(r.direction),
        clip(text(r.customer_name), 28),
        typeof r.details_deal_value === 'number'
          ? r.details_deal_value.toLocaleString('en-US', { maximumFractionDigits: 2 })
          : '',
        text(r.details_currency),
      ]);
    out(
      `The ${rows.length} newest of ${count(n)} rows of the Delta table referrals_latest (${lakePath}), read back with DuckDB (times UTC):`,
    );
    const header = [
      'referral_id',
      'created_date_time',
      'status',
      'substatus',
      'direction',
      'customer_name',
      'details_deal_value',
      'details_currency',
    ];
    printTable(out, [header, ...rows], [false, false, false, false, false, false, true, false]);
    out();
  });
}

function printHints(out: Out, copyDir: string, azuriteDir: string): void {
  const copy = shown(copyDir);
  out(`Look further: the lake is copied to ${copy}/ and stays there after the demo.`);
  printTable(out, [
    // The NDJSON copies: the Delta tables' own Parquet is read through their logs, never globbed.
    ...duckdbHints(copy).map((sql, i) => [i === 0 ? 'DuckDB CLI' : '', `duckdb -c "${sql}"`]),
    ['', `(NDJSON copies, offline; ${DUCKDB_DELTA_NOTE})`],
    [
      'Storage Explorer',
      "Azurite stops with the demo; to browse the lake, serve it again on the emulator's default port:",
    ],
    ['', `npx azurite-blob --location ${shown(azuriteDir)} --skipApiVersionCheck --disableTelemetry`],
    ['', `then Emulator & Attached › Storage Accounts › (Emulator - Default Ports) › Blob Containers › ${CONTAINER}`],
    ['', '(or Connect › Local storage emulator, or the connection string UseDevelopmentStorage=true)'],
  ]);
  out();
}

// ---------------------------------------------------------------------------------------------
// Formatting

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

function total(files: readonly StoredObject[]): number {
  return files.reduce((sum, f) => sum + f.size, 0);
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
