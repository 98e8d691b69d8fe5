/**
 * Reads a table's NDJSON back as rows, streaming, for the latest-table build: line by line from
 * storage, each value turned back into the in-memory cell its column type has (ISO timestamps →
 * epoch microseconds). The NDJSON files hold exactly the Parquet files' values, so this is lossless.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { timestampMicros } from '../../common/time.js';
import type { Cell, Row, TableSpec } from '../../schema/table.js';
import type { StorageTarget } from '../storage/storage.js';

export async function* readNdjsonRows(target: StorageTarget, path: string, spec: TableSpec): AsyncGenerator<Row> {
  const stream = await target.openRead(path);
  if (!stream) return;
  const timestampColumns = spec.columns.filter((c) => c.type === 'timestamp').map((c) => c.name);
  const lines = createInterface({ input: Readable.from(stream), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line === '') continue;
    let row: Record<string, Cell>;
    try {
      row = JSON.parse(line) as Record<string, Cell>;
    } catch (error) {
      throw new Error(`${target.describe()} ${path}: line ${lineNumber} is not JSON`, { cause: error });
    }
    for (const name of timestampColumns) {
      const value = row[name];
      if (typeof value !== 'string') continue;
      const micros = timestampMicros(value);
      if (micros === undefined)
        throw new Error(`${target.describe()} ${path}: line ${lineNumber}: ${name} is not a timestamp`);
      row[name] = micros;
    }
    yield row;
  }
}
