import { describe, expect, it } from 'vitest';
import { ifMatchAccepts, ifMatchTags } from '../../src/actions/if-match.js';
import { BadQueryError } from '../../src/common/errors.js';

const ETAG = '"00006d10-0000-0000-0000-5c70aa630000"';

describe('If-Match', () => {
  it('names the entity tags of a list, quoting a bare one', () => {
    expect(ifMatchTags(ETAG)).toEqual([ETAG]);
    expect(ifMatchTags(` "a" ,${ETAG}, `)).toEqual(['"a"', ETAG]);
    expect(ifMatchTags('00006d10-0000-0000-0000-5c70aa630000')).toEqual([ETAG]);
  });

  it('matches strongly, exactly the eTag Partner Center sent', () => {
    expect(ifMatchAccepts(ifMatchTags(`"a", ${ETAG}`), ETAG)).toBe(true);
    expect(ifMatchAccepts(ifMatchTags('"a"'), ETAG)).toBe(false);
    expect(ifMatchAccepts(ifMatchTags(ETAG), null)).toBe(false);
    expect(ifMatchAccepts(ifMatchTags(ETAG.toUpperCase()), ETAG)).toBe(false);
    // Should Partner Center send an eTag without its quotes, a caller's tag for it still matches.
    const bare = ETAG.slice(1, -1);
    expect(ifMatchAccepts(ifMatchTags(bare), bare)).toBe(true);
    expect(ifMatchAccepts(ifMatchTags(ETAG), bare)).toBe(true);
  });

  it.each([
    ['*', /blind|whatever version/],
    ['"a", *', /whatever version/],
    [`W/${ETAG}`, /weak/],
    ['', /empty/],
    [' , ', /empty/],
    ['"has"quote"', /not an eTag/],
    ['"tab\there"', /not an eTag/],
    [Array.from({ length: 21 }, (_, i) => `"${i}"`).join(','), /more than 20/],
  ])('refuses %j naming If-Match', (header, message) => {
    let error: unknown;
    try {
      ifMatchTags(header);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BadQueryError);
    expect((error as BadQueryError).target).toBe('If-Match');
    expect((error as Error).message).toMatch(message);
  });
});
