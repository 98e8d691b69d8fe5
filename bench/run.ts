/**
 * `npm run bench [-- --quick] [-- --only name,… [--write]]`: measures what users pay for, on this
 * machine, and writes docs/benchmarks.md (with --only, only given --write, and then only the
 * sections of the scenarios run and the target rows they measure: bench/doc.ts). The last line of
 * stdout is one JSON object with every figure; names are stable and carry their unit.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PROCESS_TUNING } from '../src/common/process-tuning.js';
import { type DocSection, mergeIntoDoc, targetValues } from './doc.js';
import { clientStreamingScenario } from './scenarios/client-streaming.js';
import { deltaLogReadScenario } from './scenarios/delta-log-read.js';
import { deltaStageScenario } from './scenarios/delta-stage.js';
import { eventsBurstScenario } from './scenarios/events-burst.js';
import { eventsReceiverScenario } from './scenarios/events-receiver.js';
import { eventsToLakeScenario } from './scenarios/events-to-lake.js';
import { fullSyncScenario } from './scenarios/full-sync.js';
import { httpLiveListScenario } from './scenarios/http-live-list.js';
import { latencyBoundScenario } from './scenarios/latency-bound.js';
import { latencyCliScenario } from './scenarios/latency-cli.js';
import { parquetAnchorScenario } from './scenarios/parquet-anchor.js';
import { sandboxServingScenario } from './scenarios/sandbox-serving.js';
import { syncMemoryScenario } from './scenarios/sync-memory.js';
import { syncMemoryCliScenario } from './scenarios/sync-memory-cli.js';
import { checkTargets, renderTargets } from './targets.js';

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** Runs the scenario and returns its figures (unit in each name). */
  run(size: 'quick' | 'full'): Promise<Record<string, number>>;
  /** One markdown paragraph: what was measured and how to read it. */
  readonly description: string;
}

const SCENARIOS: readonly Scenario[] = [
  sandboxServingScenario,
  clientStreamingScenario,
  fullSyncScenario,
  deltaStageScenario,
  deltaLogReadScenario,
  parquetAnchorScenario,
  syncMemoryScenario,
  syncMemoryCliScenario,
  latencyBoundScenario,
  latencyCliScenario,
  httpLiveListScenario,
  eventsReceiverScenario,
  eventsToLakeScenario,
  eventsBurstScenario,
];

async function main(): Promise<void> {
  const values = parseOptions();
  if (!values) return;
  const only = values.only?.split(',');
  const size = values.quick ? 'quick' : 'full';
  const figures: Record<string, number> = {};
  const sections: DocSection[] = [];
  for (const scenario of SCENARIOS.filter((s) => !only || only.includes(s.name))) {
    process.stderr.write(`bench: ${scenario.name} (${size})…\n`);
    const result = await scenario.run(size);
    Object.assign(figures, result);
    sections.push({ title: scenario.title, text: renderSection(scenario, result) });
  }
  const checks = checkTargets(figures);
  for (const missed of checks.filter((c) => c.met === false)) {
    process.stderr.write(
      `bench: target missed: ${missed.figure} = ${missed.value}, limit ${missed.op} ${missed.limit}\n`,
    );
  }
  if (!values.quick && (!only || values.write)) {
    const doc = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
    if (only) {
      // Only these scenarios' sections and target rows change; the other rows keep the values shown.
      const before = await readFile(doc, 'utf8');
      const targets = renderTargets(checkTargets({ ...targetValues(before), ...figures }));
      await writeFile(
        doc,
        mergeIntoDoc(
          before,
          sections,
          SCENARIOS.map((s) => s.title),
          targets,
        ),
      );
    } else {
      await writeFile(
        doc,
        renderDoc(
          renderTargets(checks),
          sections.map((s) => s.text),
        ),
      );
    }
    // The repository's formatter lays out the tables, so the file is exactly what `npm run lint` wants.
    execFileSync(fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url)), ['format', '--write', doc], {
      stdio: 'ignore',
    });
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** The options, or undefined when there is nothing to run (help shown, or a usage error: exit code 2). */
function parseOptions(): { quick: boolean; only?: string; write: boolean } | undefined {
  let values: { quick: boolean; only?: string; write: boolean; help: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        write: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(usage());
    return undefined;
  }
  const unknown = values.only?.split(',').filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0) return usageError(`--only: no scenario named ${unknown.join(', ')}`);
  if (values.write && (values.quick || !values.only)) return usageError('--write goes with --only, in a full run');
  return values;
}

function usageError(message: string): undefined {
  process.stderr.write(`bench: ${message}\n\n${usage()}`);
  process.exitCode = 2;
  return undefined;
}

function usage(): string {
  return [
    'npm run bench [-- --quick] [-- --only name,… [--write]]',
    '  --quick   every scenario at a small size (under two minutes); docs/benchmarks.md is not written',
    "  --write   with --only: replace these scenarios' sections and target rows in docs/benchmarks.md, keep the rest",
    '  --only    run these scenarios only (docs/benchmarks.md is not written without --write):',
    ...SCENARIOS.map((s) => `              ${s.name}: ${s.title}`),
    '',
  ].join('\n');
}

function renderSection(scenario: Scenario, figures: Record<string, number>): string {
  const rows = Object.entries(figures).map(([k, v]) => `| \`${k}\` | ${Number.isInteger(v) ? v : v.toFixed(2)} |`);
  return [`## ${scenario.title}`, '', scenario.description, '', '| figure | value |', '|---|---|', ...rows, ''].join(
    '\n',
  );
}

function renderDoc(targets: string, sections: readonly string[]): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpu}), ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Everything runs on 127.0.0.1 against the sandbox.`,
    'Reproduce with `npm ci && npm run bench` (full) or `npm run bench -- --quick` (small sizes, not written here).',
    'The sync, fetch and HTTP jobs each run in a process of its own; `BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` profiles them.',
    `The sync and fetch jobs start with the process tuning (${Object.entries(PROCESS_TUNING)
      .map(([name, value]) => `\`${name}=${value}\``)
      .join(
        ', ',
      )}; src/common/process-tuning.ts; the Function App passes the same flags as \`languageWorkers__node__arguments\`).`,
    'The CLI scenarios run `bin/referrals-lake.js` as a user does, with nothing of that in its environment: it starts its own tuned child.',
    '',
    '## Targets',
    '',
    targets,
    'What was profiled and changed for each, with before and after: [performance.md](performance.md).',
    '',
    ...sections,
  ].join('\n');
}

await main();
