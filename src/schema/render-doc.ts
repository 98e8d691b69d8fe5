/**
 * docs/schema.md, generated from TABLES: the one place analysts read the lake's columns. A test
 * compares the committed file with `renderSchemaDoc()`, so the doc cannot drift from the code.
 *
 * CLI (after `npm run build`): `node dist/src/schema/render-doc.js --write [path]` writes the doc
 * (default docs/schema.md under the working directory); `--check [path]` exits 1 when it is stale;
 * no flag prints it.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RESPONSE_WINDOW_DAYS } from './referral-resource.js';
import type { ColumnSpec, TableSpec } from './table.js';
import {
  EXPIRY_RISK_DAYS,
  HISTORY_TABLES,
  QUARANTINE_COLUMNS,
  REFERRAL_VERSIONS,
  REFERRALS_VANISHED,
  resolveColumnField,
  SCHEMA_VERSION,
  schemaFingerprint,
  TABLES,
} from './tables.js';

export const SCHEMA_DOC_PATH = 'docs/schema.md';

/** The whole document; deterministic (no dates), so regenerating an unchanged schema changes nothing. */
export function renderSchemaDoc(tables: readonly TableSpec[] = [...TABLES, ...HISTORY_TABLES]): string {
  const parts = [header(tables), typeChoices(), overview(tables), ...tables.map(tableSection), quarantineSection()];
  return `${parts.join('\n\n')}\n`;
}

function header(tables: readonly TableSpec[]): string {
  return [
    '# Lake tables',
    '',
    '<!-- Generated from src/schema/tables.ts by src/schema/render-doc.ts: do not edit by hand, run `npm run schema:doc`. -->',
    '',
    `Schema version **${SCHEMA_VERSION}** (fingerprint \`${schemaFingerprint()}\`). The version goes up with any`,
    'column change (added, removed, renamed, reordered, new type, nullability or source) and any table change of',
    'the normalized tables; doc wording alone does not change it. Every table is a Delta table. Each run appends',
    'its rows to every normalized table (partitioned by `snapshot_date`, the UTC day the run started: a column',
    "of the table kept in the Delta log, not in the data files) and overwrites each one's `<table>_latest` twin",
    `with the current state; NDJSON copies with the same columns are under \`ndjson/\`. ${tables
      .filter((t) => HISTORY_TABLES.includes(t))
      .map((t) => `\`${t.name}\``)
      .join(', ')}: tables the sync derives from the runs.`,
  ].join('\n');
}

function typeChoices(): string {
  return [
    '## Type choices',
    '',
    '- **timestamp**: an instant in UTC with microsecond precision (Parquet `INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS)`,',
    '  NDJSON epoch microseconds). Partner Center sends seven fractional digits (100 ns ticks); the seventh is',
    '  dropped (truncated, not rounded), since no reader keeps more than microseconds. A value without an offset is',
    '  UTC. Instants more than about 285 years from 1970 are not exact as microseconds and are quarantined.',
    '- **double** for money: deal values are estimates in many currencies, and DOUBLE reads the same in every',
    '  reader, where DECIMAL precision and scale support differs. Currency is in `details_currency`; values are not',
    '  converted.',
    '- **Enums as strings**: status, substatus, type, qualification and the other enums are kept as sent. The API is',
    '  not bound to the documented values (they are listed per column as known values), and a new value must',
    '  arrive, not fail.',
    '- **int64** for ordinals, counts and day differences.',
    '- **Child tables instead of list columns**: every array of the referral is a table keyed by',
    '  (`referral_id`, `ordinal`), `ordinal` being the 0-based position in the array. The `referrals` table also',
    '  carries comma-joined id lists and counts for slicers.',
    '- **`_extra_json`**: fields the schema does not declare are not lost. Each table has a JSON object of the',
    '  unknown keys of its record, nested keys under their parents (`{"customerProfile":{"newThing":1}}`); null when',
    "  there are none. Unknown keys inside array items are in that child table's `_extra_json`. The raw",
    '  referrals are also kept whole by the writer.',
    "- **Lineage** on every row: `_run_id`, `_extracted_at` and `_source_updated_date_time` (the referral's",
    '  updatedDateTime, i.e. which version of the referral the row shows).',
    `- **Derived values** are computed from \`_extracted_at\`, never the clock: \`respond_by\` is the response deadline`,
    `  of a pending incoming referral (expirationDateTime, else created + ${RESPONSE_WINDOW_DAYS} days); \`is_expired_risk\``,
    `  flags those due within ${EXPIRY_RISK_DAYS} days of extraction or already past.`,
    '- **Duplicates** are kept: a pull can list a referral twice; deduplication by `referral_id` and',
    '  `_source_updated_date_time` belongs to the sync stage. A copy whose updatedDateTime was not kept (null, e.g.',
    '  `9999-12-31T23:59:59.9999999Z`, past the exact microsecond range) counts as older than any copy with one.',
    '',
    '### Coercion and quarantine',
    '',
    'A value of the wrong type is converted only when nothing is lost; otherwise the cell is null and the',
    'quarantine list gets an entry (see the end of this page). Absent and null values are null, never quarantined.',
    '',
    '- string: a number becomes its shortest decimal text (`5` → `"5"`), a boolean `"true"`/`"false"`; objects and',
    '  arrays are quarantined. Text with lone UTF-16 surrogates (not encodable as UTF-8) is kept with U+FFFD in',
    '  their place and reported: the one repair that keeps a value.',
    '- double: a plain decimal string is read (`"10000"` → 10000, `" 2.5e3 "` → 2500). Grouped or localised text',
    '  (`"10,000.50"`, `"10.000,50"`, `"$5"`) is quarantined: `10,000` is ten thousand in en-US and ten in de-DE.',
    '- boolean: `"true"`/`"false"` in any case are read; `"yes"`, `1` and the like are quarantined.',
    '- timestamp: ISO-8601 text only; numbers (seconds or milliseconds?) and unparseable text (`"yesterday"`) are',
    '  quarantined.',
    '- A nested object that is not an object (`details: []`) is quarantined once, and its columns are null. An array',
    '  sent as `{}` is empty (the API does this with `customerProfile.ids`); any other non-array is quarantined and',
    '  gives no child rows (and a null count). An array item that is not an object is quarantined and skipped;',
    '  the others keep their position as `ordinal`.',
    '- A referral that is not an object, or has no non-empty string `id`, is quarantined whole and gives no rows:',
    '  referrals in = `referrals` rows + whole-referral quarantine entries.',
    '- Hence fields the API always sends (`createdDateTime`, `updatedDateTime`) are still nullable columns: a value',
    '  that does not parse costs one cell, not the referral.',
  ].join('\n');
}

function overview(tables: readonly TableSpec[]): string {
  const rows = tables.map((t) => [`[\`${t.name}\`](#${t.name})`, grain(t), String(t.columns.length)]);
  return ['## Tables', '', markdownTable(['table', 'grain', 'columns'], rows)].join('\n');
}

function grain(table: TableSpec): string {
  if (table.name === REFERRALS_VANISHED.name) return 'one row per referral each time it vanished';
  if (table.name === REFERRAL_VERSIONS.name)
    return 'one row per version of a referral, key (`referral_id`, `_source_updated_date_time`)';
  return table.arrayPath === undefined
    ? 'one row per referral'
    : `one row per item of \`${table.arrayPath}\`, key (\`referral_id\`, \`ordinal\`)`;
}

function tableSection(table: TableSpec): string {
  const lines = [`## ${table.name}`, '', table.doc, '', `Grain: ${grain(table)}.`];
  if (table.arrayPath !== undefined) lines.push(`Source paths are relative to an item of \`${table.arrayPath}\`.`);
  lines.push(
    '',
    columnTable(table.columns, (column) => columnDoc(table, column)),
  );
  return lines.join('\n');
}

function columnTable(columns: readonly ColumnSpec[], doc: (column: ColumnSpec) => string): string {
  const rows = columns.map((c) => [
    `\`${c.name}\``,
    c.type,
    c.nullable ? 'yes' : 'no',
    `\`${cell(c.source)}\``,
    cell(doc(c)),
  ]);
  return markdownTable(['column', 'type', 'nullable', 'source', 'doc'], rows);
}

/**
 * A table padded the way Biome formats Markdown (`npm run lint` checks docs/ too), so the
 * generated file is already formatted. Cells are ASCII, where string length is display width.
 */
function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The declared doc, plus the known values of an enum column from the resource model. */
function columnDoc(table: TableSpec, column: ColumnSpec): string {
  const field = resolveColumnField(table, column);
  if (field?.kind !== 'enum') return column.doc;
  return `${column.doc} Known values: ${field.values.map((v) => `\`${v}\``).join(', ')}.`;
}

function quarantineSection(): string {
  return [
    '## Quarantine entries',
    '',
    'Written by the lake stage as NDJSON beside the tables, one entry per value the normalizer could not keep as',
    'sent. The raw referral is kept whole, so an entry points at data that still exists.',
    '',
    columnTable(QUARANTINE_COLUMNS, (c) => c.doc),
  ].join('\n');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(args: readonly string[]): Promise<number> {
  const [flag, pathArg] = args;
  const path = resolve(process.cwd(), pathArg ?? SCHEMA_DOC_PATH);
  const doc = renderSchemaDoc();
  if (flag === '--write') {
    await writeFile(path, doc, 'utf8');
    process.stdout.write(`wrote ${path}\n`);
    return 0;
  }
  if (flag === '--check') {
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current === doc) return 0;
    process.stderr.write(`${path} is stale: run \`npm run schema:doc\`\n`);
    return 1;
  }
  process.stdout.write(doc);
  return 0;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  process.exitCode = await main(process.argv.slice(2));
}
