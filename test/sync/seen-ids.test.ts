import { describe, expect, it } from 'vitest';
import { createRandom, guid } from '../../src/sandbox/random.js';
import { SeenIds } from '../../src/sync/seen-ids.js';

describe('SeenIds', () => {
  it('tells new, same, older and newer versions apart', () => {
    const seen = new SeenIds(4);
    const id = 'c5fbb3b6-be74-4795-9fb5-4324c73fed37';
    expect(seen.observe(id, 100)).toBe('new');
    expect(seen.observe(id.toUpperCase(), 100)).toBe('same');
    expect(seen.observe(id, 50)).toBe('older');
    expect(seen.observe(id, 200)).toBe('newer');
    expect(seen.observe(id, 150)).toBe('older');
    expect(seen.size).toBe(1);
  });

  it('keeps exact identity across growth for 200,000 GUIDs', () => {
    const random = createRandom(9);
    const ids = Array.from({ length: 200_000 }, () => guid(random));
    const seen = new SeenIds(16);
    for (const [i, id] of ids.entries()) expect(seen.observe(id, i)).toBe('new');
    expect(seen.size).toBe(200_000);
    for (const [i, id] of ids.entries()) {
      if (seen.observe(id, i) !== 'same') throw new Error(`lost ${id}`);
    }
    expect(seen.observe(guid(createRandom(10)), 1)).toBe('new');
    // 24 bytes an id at a load of at least 0.72 (plus the 64 shards' first slots): a single table
    // doubling to 2^19 slots of 25 bytes (13 MB) would not fit.
    expect(seen.tableBytes).toBeLessThan((200_000 * 24) / 0.72 + 64 * 16 * 24);
  });

  it('keeps the all-zero GUID (the empty-slot mark) apart from every other id', () => {
    const seen = new SeenIds(16);
    const zero = '00000000-0000-0000-0000-000000000000';
    expect(seen.observe(zero, 1)).toBe('new');
    expect(seen.observe('00000000-0000-0000-0000-000000000001', 1)).toBe('new');
    expect(seen.observe(zero, 1)).toBe('same');
    expect(seen.observe(zero.toUpperCase(), 2)).toBe('newer');
    expect(seen.size).toBe(2);
  });

  it('handles ids that are not GUIDs', () => {
    const seen = new SeenIds();
    expect(seen.observe('ref-1', 1)).toBe('new');
    expect(seen.observe('ref-1', 2)).toBe('newer');
    expect(seen.observe('ref-2', 1)).toBe('new');
    expect(seen.size).toBe(2);
  });
});
