import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderSchemaDoc, SCHEMA_DOC_PATH } from '../../src/schema/render-doc.js';
import { SCHEMA_VERSION, schemaFingerprint, TABLES } from '../../src/schema/tables.js';

describe('docs/schema.md', () => {
  it('is the rendering of TABLES', async () => {
    const committed = await readFile(new URL(`../../${SCHEMA_DOC_PATH}`, import.meta.url), 'utf8').catch(() => '');
    expect(committed === renderSchemaDoc(), `${SCHEMA_DOC_PATH} is stale: run \`npm run schema:doc\``).toBe(true);
  });

  it('shows every table and column with its type, nullability and source', () => {
    const doc = renderSchemaDoc();
    expect(doc).toContain(`Schema version **${SCHEMA_VERSION}** (fingerprint \`${schemaFingerprint()}\`)`);
    for (const table of TABLES) {
      expect(doc).toContain(`\n## ${table.name}\n`);
      const section = doc.slice(doc.indexOf(`\n## ${table.name}\n`)).split('\n## ')[1] ?? '';
      const rows = section
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) => line.split('|').map((cell) => cell.trim()));
      expect(rows.map((r) => r.slice(1, 5))).toEqual(
        table.columns.map((c) => [`\`${c.name}\``, c.type, c.nullable ? 'yes' : 'no', `\`${c.source}\``]),
      );
    }
    for (const topic of [
      'DOUBLE',
      'seventh is',
      '`_extra_json`',
      'Quarantine entries',
      'Known values: `None`, `New`',
    ]) {
      expect(doc).toContain(topic);
    }
  });

  it('is formatted as Biome formats Markdown, so `npm run lint` passes on it', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const doc = renderSchemaDoc();
    const formatted = execFileSync(
      process.execPath,
      ['node_modules/@biomejs/biome/bin/biome', 'format', `--stdin-file-path=${SCHEMA_DOC_PATH}`],
      { cwd: root, input: doc, encoding: 'utf8' },
    );
    expect(formatted).toBe(doc);
  });

  it('changes when a column changes, so a stale file is caught', () => {
    const changed = TABLES.map((t) =>
      t.name === 'referral_targets' ? { ...t, columns: t.columns.map((c) => ({ ...c, doc: `${c.doc} New.` })) } : t,
    );
    expect(renderSchemaDoc(changed)).not.toBe(renderSchemaDoc());
    expect(renderSchemaDoc()).toBe(renderSchemaDoc());
  });
});
