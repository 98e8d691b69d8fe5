/**
 * The limits the benchmarks are held to (issue 6), as data: each names one figure of the run, so
 * docs/benchmarks.md shows measured against target side by side, and stderr says which were missed.
 */
export interface Target {
  readonly figure: string;
  readonly op: '>=' | '<=';
  readonly limit: number;
  readonly what: string;
}

export const TARGETS: readonly Target[] = [
  { figure: 'sync_fetch_ratio', op: '>=', limit: 0.7, what: 'Full sync into Azurite against fetch only' },
  { figure: 'parquet_ours_to_duckdb_ratio', op: '<=', limit: 3, what: 'Our Parquet writer against DuckDB' },
  { figure: 'sync_peak_rss_mb_1000000', op: '<=', limit: 300, what: 'Peak RSS of a full sync of 1M referrals (MB)' },
  { figure: 'sync_rss_growth_ratio', op: '<=', limit: 1.3, what: 'Peak RSS at 1M over 100k' },
  { figure: 'latency_ideal_ratio_c8', op: '<=', limit: 1.2, what: 'Slow Partner Center, concurrency 8, over ideal' },
  {
    figure: 'latency_cli_ideal_ratio_c8',
    op: '<=',
    limit: 1.5,
    what: 'The CLI, 20k at 200 ms a page, c8: wall clock over ideal',
  },
  {
    figure: 'latency_cli_extract_ratio_c8',
    op: '<=',
    limit: 1.2,
    what: 'The same run: extract stage over ideal',
  },
  {
    figure: 'delta_stage_ratio_100000',
    op: '<=',
    limit: 0.1,
    what: 'Vanish check, versions, latest tables and the publish: share of a 100k full sync',
  },
  {
    figure: 'delta_log_read_seconds_1000',
    op: '<=',
    limit: 1,
    what: 'A 1,000-commit Delta log read by the tests’ replay (s)',
  },
  {
    figure: 'cli_sync_peak_rss_mb_250000',
    op: '<=',
    limit: 300,
    what: 'Peak RSS of the plain CLI sync of 250k (MB)',
  },
  {
    figure: 'events_receiver_p95_ms_100rps',
    op: '<=',
    limit: 1000,
    what: 'The events receiver at 100 events/s, p95 as its client times it (ms)',
  },
  {
    figure: 'events_receiver_failed_100rps',
    op: '<=',
    limit: 0,
    what: 'The same run: events not answered 200',
  },
  {
    figure: 'events_lake_p95_seconds',
    op: '<=',
    limit: 60,
    what: 'A change in the sandbox to its row in referrals_latest, p95, default flush (s)',
  },
];

export interface TargetCheck extends Target {
  readonly value: number | undefined;
  readonly met: boolean | undefined;
}

export function checkTargets(figures: Readonly<Record<string, number>>): TargetCheck[] {
  return TARGETS.map((target) => {
    const value = figures[target.figure];
    if (value === undefined) return { ...target, value, met: undefined };
    return { ...target, value, met: target.op === '>=' ? value >= target.limit : value <= target.limit };
  });
}

export function renderTargets(checks: readonly TargetCheck[]): string {
  const rows = checks.map((c) => {
    const verdict = c.met === undefined ? 'not measured' : c.met ? 'met' : '**missed**';
    return `| ${c.what} | \`${c.figure}\` ${c.op} ${c.limit} | ${c.value ?? '–'} | ${verdict} |`;
  });
  return ['| target | limit | measured | |', '|---|---|---|---|', ...rows, ''].join('\n');
}
