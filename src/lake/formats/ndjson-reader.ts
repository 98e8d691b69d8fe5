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
  const parse = ndjsonRowParser(spec, `${target.describe()} ${path}`);
  for await (const { line, lineNumber } of readNdjsonLines(target, path)) yield parse(line, lineNumber);
}

/** The non-empty lines of an NDJSON file, streaming; nothing when the file does not exist. */
export async function* readNdjsonLines(
  target: StorageTarget,
  path: string,
): AsyncGenerator<{ line: string; lineNumber: number }> {
  const stream = await target.openRead(path);
  if (!stream) return;
  const lines = createInterface({ input: Readable.from(stream), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line !== '') yield { line, lineNumber };
  }
}

/** One line → its row, timestamps back to microseconds; errors name `where` and the line. */
export function ndjsonRowParser(spec: TableSpec, where: string): (line: string, lineNumber: number) => Row {
  const timestampColumns = spec.columns.filter((c) => c.type === 'timestamp').map((c) => c.name);
  return (line, lineNumber) => {
    let row: Record<string, Cell>;
    try {
      row = JSON.parse(line) as Record<string, Cell>;
    } catch (error) {
      throw new Error(`${where}: line ${lineNumber} is not JSON`, { cause: error });
    }
    for (const name of timestampColumns) {
      const value = row[name];
      if (typeof value !== 'string') continue;
      const micros = timestampMicros(value);
      if (micros === undefined) throw new Error(`${where}: line ${lineNumber}: ${name} is not a timestamp`);
      row[name] = micros;
    }
    return row;
  };
}

/**
 * The value of a table's first column (a string) in one of its NDJSON lines, read off the line's
 * start, which the writer always spells `{"<column>":"…"`: a key pass over a large file then costs
 * no JSON.parse. Any other spelling (an escape in the value, another first key) is parsed.
 */
export function leadingStringValue(line: string, column: string): string | undefined {
  const prefix = `{"${column}":"`;
  if (line.startsWith(prefix)) {
    const end = line.indexOf('"', prefix.length);
    const value = line.slice(prefix.length, end);
    if (end > 0 && !value.includes('\\')) return value;
  }
  const parsed = JSON.parse(line) as Record<string, unknown>;
  const value = parsed[column];
  return typeof value === 'string' ? value : undefined;
}
