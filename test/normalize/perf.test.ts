/**
 * How long 100,000 generator referrals take to normalize, every row kept in memory (as the
 * writers need them). Logged, not asserted: timings on a shared 2-core box vary too much for a
 * threshold that never flakes. The figure goes to docs/benchmarks.md by hand.
 */

import { describe, expect, it } from 'vitest';
import { generateReferrals } from '../../sandbox/generator.js';
import { normalizeReferrals } from '../../src/normalize/normalize.js';
import { TABLES } from '../../src/schema/tables.js';

const COUNT = 100_000;

describe('normalizer speed', () => {
  it(`normalizes ${COUNT.toLocaleString('en-US')} referrals`, () => {
    const generating = performance.now();
    const referrals = generateReferrals({ count: COUNT, seed: 1 });
    // The generator's own figure (~0.6 s per 100k on a quiet box) calibrates how busy the box is.
    const generated = performance.now() - generating;
    const lineage = { runId: 'run-perf', extractedAtMicros: Date.parse('2026-11-24T06:00:00Z') * 1000 };
    const timings: number[] = [];
    let rows = 0;
    for (let pass = 0; pass < 2; pass++) {
      const started = performance.now();
      const result = normalizeReferrals(referrals, lineage);
      timings.push(performance.now() - started);
      rows = TABLES.reduce((sum, t) => sum + result.rows[t.name].length, 0);
      expect(result.rows.referrals).toHaveLength(COUNT);
    }
    const [cold = 0, warm = 0] = timings;
    console.log(
      `normalize ${COUNT} referrals → ${rows} rows in ${TABLES.length} tables: ` +
        `${cold.toFixed(0)} ms first pass, ${warm.toFixed(0)} ms second (${((COUNT / warm) * 1000).toFixed(0)} referrals/s); ` +
        `generating them took ${generated.toFixed(0)} ms`,
    );
  });
});
