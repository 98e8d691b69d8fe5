/**
 * Bench worker: a fresh reader of one Delta table on disk, through the tests' replay
 * (test/helpers/delta-replay.ts, DuckDB reading the newest checkpoint, then the JSON commits after
 * it), not the writer's own reader; prints what it read and how long each step took, as JSON.
 *
 * BENCH_TABLE_DIR: the table's folder. Timed apart: opening DuckDB (in-memory, as the tests open it),
 * the process's first replay, a second replay in the same process, and the plain JSON replay of every
 * commit from version 0 (replayDeltaLog, no checkpoint), whose active files must be the same.
 */
import { replayDeltaLog, replayDeltaTable } from '../../test/helpers/delta-replay.js';
import { openDuckDb } from '../../test/helpers/duckdb.js';

const tableDir = process.env.BENCH_TABLE_DIR;
if (!tableDir) throw new Error('BENCH_TABLE_DIR is not set');

const seconds = async <T>(step: () => T | Promise<T>): Promise<[T, number]> => {
  const began = performance.now();
  const value = await step();
  return [value, (performance.now() - began) / 1000];
};

const [db, openSeconds] = await seconds(openDuckDb);
try {
  const [first, firstSeconds] = await seconds(() => replayDeltaTable(tableDir, db));
  const [second, secondSeconds] = await seconds(() => replayDeltaTable(tableDir, db));
  const [full, fullSeconds] = await seconds(() => replayDeltaLog(tableDir));
  const paths = (active: ReadonlyMap<string, unknown>) => [...active.keys()].sort();
  process.stdout.write(
    `${JSON.stringify({
      version: first.version,
      checkpoint: first.checkpoint ?? null,
      active: paths(first.active),
      numRecords: [...first.active.values()].reduce((sum, file) => sum + (file.stats?.numRecords ?? 0), 0),
      secondActive: paths(second.active),
      fullVersion: full.version,
      fullActive: paths(full.active),
      openSeconds,
      firstSeconds,
      secondSeconds,
      fullSeconds,
    })}\n`,
  );
} finally {
  db.close();
}
