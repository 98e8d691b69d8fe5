/**
 * `npm run bench -- --only … --write`: the scenarios run replace their own sections and target rows
 * in docs/benchmarks.md; every other section, hand-written note and target value stays as it was.
 */
import { describe, expect, it } from 'vitest';
import { mergeIntoDoc, targetValues } from '../../bench/doc.js';

const DOC = `# Benchmarks

Written by \`npm run bench\` on 2026-11-26.

## Targets

| target | limit | measured | |
| ------ | ----- | -------- | - |
| Sync | \`sync_fetch_ratio\` >= 0.7 | 0.2 | **missed** |
| Delta | \`delta_stage_ratio_100000\` <= 0.1 | 0.05 | met |
| New | \`events_p95\` <= 1 | – | not measured |

What was profiled: [performance.md](performance.md).
The CLI rows come from another run.

## Alpha

Alpha, measured.

| figure | value |
| ------ | ----- |
| \`alpha_seconds\` | 1.5 |

A note written by hand under alpha's table.

## Gamma

Gamma.

| figure | value |
|---|---|
| \`gamma\` | 3 |
`;

const ORDER = ['Alpha', 'Beta', 'Gamma', 'Delta'];
const TARGETS =
  '| target | limit | measured | |\n|---|---|---|---|\n| Sync | `sync_fetch_ratio` >= 0.7 | 0.9 | met |\n';

describe('bench doc merge', () => {
  it('reads the values the targets table shows, not the empty ones', () => {
    expect(targetValues(DOC)).toEqual({ sync_fetch_ratio: 0.2, delta_stage_ratio_100000: 0.05 });
  });

  it("replaces a section's heading, description and table, keeping the notes under it and the rest", () => {
    const alpha = '## Alpha\n\nAlpha, again.\n\n| figure | value |\n|---|---|\n| `alpha_seconds` | 1.2 |\n';
    const merged = mergeIntoDoc(DOC, [{ title: 'Alpha', text: alpha }], ORDER, TARGETS);
    expect(merged).toContain(
      'Alpha, again.\n\n| figure | value |\n|---|---|\n| `alpha_seconds` | 1.2 |\n\nA note written by hand',
    );
    expect(merged).not.toContain('Alpha, measured.');
    expect(merged).not.toContain('| 1.5 |');
    // The targets table is the new one; the lines under it and the other sections are untouched.
    expect(merged).toContain(`## Targets\n\n${TARGETS}\nWhat was profiled`);
    expect(merged).toContain('The CLI rows come from another run.\n\n## Alpha');
    expect(merged.slice(merged.indexOf('## Gamma'))).toBe(DOC.slice(DOC.indexOf('## Gamma')));
    expect(merged.startsWith(DOC.slice(0, DOC.indexOf('## Targets')))).toBe(true);
  });

  it('puts a new section where the scenario order says, or last', () => {
    const beta = '## Beta\n\nBeta.\n\n| figure | value |\n|---|---|\n| `beta` | 2 |\n';
    const delta = '## Delta\n\nDelta.\n\n| figure | value |\n|---|---|\n| `delta` | 4 |\n';
    const merged = mergeIntoDoc(
      DOC,
      [
        { title: 'Beta', text: beta },
        { title: 'Delta', text: delta },
      ],
      ORDER,
      TARGETS,
    );
    expect(merged).toContain(`under alpha's table.\n\n${beta}\n## Gamma`);
    expect(merged.endsWith(`| \`gamma\` | 3 |\n\n${delta}`)).toBe(true);
  });
});
