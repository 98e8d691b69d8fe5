/** Reading a key off an NDJSON line without parsing it: the same value JSON.parse gives, or a parse. */
import { describe, expect, it } from 'vitest';
import { leadingStringValue } from '../../src/lake/formats/ndjson-reader.js';

describe('leadingStringValue', () => {
  it('reads the first column as the writer spells it, and agrees with JSON.parse otherwise', () => {
    const lines = [
      '{"referral_id":"6f1c3c6e-0d1e-4b8e-9a53-0c1d2e3f4a5b","name":"x"}',
      '{"referral_id":"a\\"quoted\\" id","name":"x"}',
      '{"referral_id":"caf\\u00e9","name":"x"}',
      '{"name":"first","referral_id":"later"}',
      '{"referral_id":null,"name":"x"}',
      '{"referral_id":"","name":"x"}',
    ];
    for (const line of lines) {
      const parsed = (JSON.parse(line) as { referral_id: unknown }).referral_id;
      expect(leadingStringValue(line, 'referral_id'), line).toBe(typeof parsed === 'string' ? parsed : undefined);
    }
  });

  it('says which line is not JSON instead of guessing', () => {
    expect(() => leadingStringValue('{"name":', 'referral_id')).toThrow(SyntaxError);
  });
});
