/**
 * The keys of a referrals file beside it: one `<referral_id>\t<_source_updated_date_time micros>`
 * line per row (the version empty when unknown). Questions about which referrals a table holds at
 * which version (what vanished, what changed) then read a few MB instead of the whole NDJSON file,
 * whose lines are ~2.7 KB each.
 */

import type { Row } from '../../schema/table.js';
import { LineSink } from '../formats/line-sink.js';
import { readNdjsonLines } from '../formats/ndjson-reader.js';
import type { FileSummary, TableFileWriter } from '../formats/table-writer.js';
import type { StorageTarget, WriteSink } from '../storage/storage.js';

export interface ReferralKey {
  readonly id: string;
  /** Epoch microseconds, or null when the row's version is unknown. */
  readonly version: number | null;
}

export class ReferralIdsWriter implements TableFileWriter {
  private readonly lines: LineSink;
  private rows = 0;

  constructor(sink: WriteSink) {
    this.lines = new LineSink(sink);
  }

  async write(row: Row): Promise<void> {
    const id = row.referral_id;
    if (typeof id !== 'string' || /[\t\n\r]/.test(id)) {
      throw new TypeError(`referral ids: cannot write the id ${JSON.stringify(id)} on a line of its own`);
    }
    const version = row._source_updated_date_time;
    this.rows++;
    await this.lines.writeLine(`${id}\t${typeof version === 'number' ? version : ''}`);
  }

  async close(): Promise<FileSummary> {
    const { bytes, sha256 } = await this.lines.close();
    return { rows: this.rows, bytes, sha256 };
  }

  abort(): Promise<void> {
    return this.lines.abort();
  }
}

/** The keys of an ids file, streaming; nothing when the file does not exist. */
export async function* readReferralIds(target: StorageTarget, path: string): AsyncGenerator<ReferralKey> {
  for await (const { line, lineNumber } of readNdjsonLines(target, path)) {
    const tab = line.indexOf('\t');
    const version = tab < 0 ? Number.NaN : line.slice(tab + 1) === '' ? null : Number(line.slice(tab + 1));
    if (tab <= 0 || (version !== null && !Number.isSafeInteger(version))) {
      throw new Error(`${target.describe()} ${path}: line ${lineNumber} is not "<referral_id>\\t<version>"`);
    }
    yield { id: line.slice(0, tab), version };
  }
}
