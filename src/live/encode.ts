/**
 * Referrals → the bytes of an answer, streamed: json (`{ value, count, nextLink }`), ndjson or csv;
 * flat (the lake's `referrals` row, same columns, order and values as the lake's NDJSON, or the
 * columns `$select` names, in its order) or raw.
 * Output is cut into chunks of about 64 KiB, so memory holds one chunk and one upstream page.
 *
 * When more referrals remain, json carries `nextLink`; ndjson ends with one line
 * `{"@odata.nextLink": …}` and csv with one comment line `# @odata.nextLink: …` (rows are known to
 * be complete only after they are written, and headers go first).
 */
import { stringify } from 'csv-stringify/sync';
import { BadQueryError } from '../common/errors.js';
import { microsToIso } from '../common/time.js';
import { createRowLineEncoder, type RowLineEncoder } from '../lake/formats/ndjson-writer.js';
import { normalizeReferral } from '../normalize/normalize.js';
import { truncate } from '../odata/parse.js';
import type { Cell, ColumnSpec, Row } from '../schema/table.js';
import { getTable } from '../schema/tables.js';
import type { OutputFormat, OutputShape } from './params.js';

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

const CHUNK_CHARS = 64 * 1024;
const REFERRALS = getTable('referrals');
export const FLAT_COLUMNS: readonly ColumnSpec[] = REFERRALS.columns;
/** A flat row as one JSON object (the lake's NDJSON line). */
export const flatLine = createRowLineEncoder(REFERRALS);
const COLUMNS_BY_NAME: ReadonlyMap<string, ColumnSpec> = new Map(FLAT_COLUMNS.map((c) => [c.name, c]));

/** The flat columns of an answer: every one, or those `$select` names, in its order. */
export function flatColumns(names?: readonly string[]): readonly ColumnSpec[] {
  if (names === undefined) return FLAT_COLUMNS;
  return names.map((name) => {
    const column = COLUMNS_BY_NAME.get(name);
    if (column) return column;
    throw new BadQueryError(
      '$select',
      `$select names '${truncate(name)}', which is not a column of the flat referrals row (shape=raw takes the ` +
        `referral's own property names); the columns are: ${FLAT_COLUMNS.map((c) => c.name).join(', ')}`,
    );
  });
}

export interface EncodeOptions {
  readonly format: OutputFormat;
  readonly shape: OutputShape;
  /** The flat columns to write, in this order (flatColumns); all of them when absent. */
  readonly columns?: readonly ColumnSpec[];
  /** `_run_id` of flat rows: the live list is no sync run, so it names the invocation. */
  readonly runId: string;
  /** Absolute URL of the next answer, asked once every item has been written; undefined when done. */
  readonly nextLink: () => string | undefined;
  /** Told of a referral the normalizer could not turn into a row (left out of a flat answer). */
  readonly onSkipped?: (item: unknown) => void;
}

/** The flat row of a referral, or undefined when the normalizer quarantines it whole. */
export function flatRow(item: unknown, runId: string, extractedAtMicros: number): Row | undefined {
  return normalizeReferral(item, { runId, extractedAtMicros }).rows.referrals[0];
}

export async function* encodeAnswer(items: AsyncIterable<unknown>, options: EncodeOptions): AsyncGenerator<Buffer> {
  const { format, shape } = options;
  const columns = options.columns ?? FLAT_COLUMNS;
  const line: RowLineEncoder = columns === FLAT_COLUMNS ? flatLine : createRowLineEncoder({ ...REFERRALS, columns });
  const extractedAtMicros = Date.now() * 1000;
  let buffer = format === 'json' ? '{"value":[' : format === 'csv' ? csvHeader(columns) : '';
  let count = 0;
  for await (const item of items) {
    let text: string;
    if (shape === 'raw') {
      text = JSON.stringify(item);
    } else {
      const row = flatRow(item, options.runId, extractedAtMicros);
      if (!row) {
        options.onSkipped?.(item);
        continue;
      }
      text = format === 'csv' ? csvLine(columns, row) : line(row, count + 1);
    }
    if (format === 'json') buffer += count === 0 ? text : `,${text}`;
    else buffer += format === 'csv' ? text : `${text}\n`;
    count++;
    if (buffer.length >= CHUNK_CHARS) {
      yield Buffer.from(buffer, 'utf8');
      buffer = '';
    }
  }
  const next = options.nextLink();
  if (format === 'json') {
    buffer += `],"count":${count}${next === undefined ? '' : `,"nextLink":${JSON.stringify(next)}`}}`;
  } else if (next !== undefined) {
    buffer += format === 'csv' ? `# @odata.nextLink: ${next}\n` : `${JSON.stringify({ '@odata.nextLink': next })}\n`;
  }
  if (buffer !== '') yield Buffer.from(buffer, 'utf8');
}

function csvHeader(columns: readonly ColumnSpec[]): string {
  return stringify([columns.map((c) => c.name)]);
}

function csvLine(columns: readonly ColumnSpec[], row: Row): string {
  return stringify([columns.map((c) => csvCell(c, row[c.name] ?? null))]);
}

/** CSV cells read as the NDJSON's: timestamps ISO-8601 UTC with microseconds, null as empty. */
function csvCell(column: ColumnSpec, cell: Cell): string {
  if (cell === null) return '';
  if (column.type === 'timestamp') return microsToIso(cell as number);
  return String(cell);
}
