/**
 * The body rules: what a signed event must say before it becomes a message for the worker, and the
 * typed error (a reason code, never the body) when it does not.
 */
import { describe, expect, it } from 'vitest';
import { BadEventError } from '../../src/common/errors.js';
import { MAX_EVENT_BYTES, parseEvent, resourceHosts } from '../../src/events/event.js';
import { thrownBy } from '../helpers/errors.js';

const ID = '4b5c9e2a-7d1f-4e8a-9c3b-2f6a1d0e8b7c';
const RECEIVED_MS = Date.parse('2026-03-02T10:15:01.000Z');
const rules = { resourceHosts: resourceHosts('https://127.0.0.1:8443') };

function body(fields: Record<string, unknown>): Buffer {
  return Buffer.from(
    JSON.stringify({
      EventName: 'referral-updated',
      ResourceUri: `https://api.partnercenter.microsoft.com/engagements/v1/referrals/${ID}`,
      ResourceName: 'referral',
      AuditUri: null,
      ResourceChangeUtcDate: '2026-03-02T10:15:00.1234567+00:00',
      ...fields,
    }),
  );
}

const parse = (raw: Buffer) => parseEvent(raw, rules, RECEIVED_MS);
const reasonFor = (raw: Buffer) => thrownBy(BadEventError, () => parse(raw));

describe('webhook event bodies', () => {
  it('turns a referral event into the worker message: name, id, change time, receipt time (canonical)', () => {
    expect(parse(body({}))).toEqual({
      kind: 'referral',
      message: {
        eventName: 'referral-updated',
        referralId: ID,
        changedAt: '2026-03-02T10:15:00.1234567Z',
        receivedAt: '2026-03-02T10:15:01.0000000Z',
      },
    });
    for (const name of ['referral-created', 'related-referral-created', 'related-referral-updated']) {
      expect(parse(body({ EventName: name }))).toMatchObject({ kind: 'referral', message: { eventName: name } });
    }
  });

  it("accepts Partner Center's host over http or https (the docs' samples use both) and the configured API host", () => {
    const uris = [
      `http://api.partnercenter.microsoft.com/engagements/v1/referrals/${ID}`,
      `https://API.PartnerCenter.Microsoft.com/engagements/v1/referrals/${ID}/`,
      `https://127.0.0.1:8443/engagements/v1/referrals/${ID}`,
      `https://api.partnercenter.microsoft.com/Engagements/v1/Referrals/${ID.toUpperCase()}`,
    ];
    for (const uri of uris) expect(parse(body({ ResourceUri: uri })), uri).toMatchObject({ kind: 'referral' });
    expect(resourceHosts('https://api.partnercenter.microsoft.com')).toEqual(['api.partnercenter.microsoft.com']);
  });

  it('acknowledges test-created as a test whatever its ResourceUri (the docs show two shapes)', () => {
    for (const uri of [
      'http://localhost:16722/v1/webhooks/registration/test',
      `https://api.partnercenter.microsoft.com/webhooks/v1/registration/validationEvents/${ID}`,
    ]) {
      expect(parse(body({ EventName: 'test-created', ResourceUri: uri, ResourceName: 'test' }))).toEqual({
        kind: 'test',
      });
    }
  });

  it('tolerates a UTF-8 byte order mark', () => {
    expect(parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body({})]))).toMatchObject({ kind: 'referral' });
  });

  it('refuses with a reason code: too large, not JSON, not an object, an unknown event, a foreign or malformed resource, a bad date', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['over 64 KiB', Buffer.concat([body({}), Buffer.alloc(MAX_EVENT_BYTES, 0x20)]), 'too_large'],
      ['not JSON', Buffer.from('{"EventName": "referral-updated",'), 'not_json'],
      ['empty', Buffer.alloc(0), 'not_json'],
      ['an array', Buffer.from('[]'), 'not_an_object'],
      ['null', Buffer.from('null'), 'not_an_object'],
      ['an unknown event', body({ EventName: 'referral-deleted' }), 'unknown_event'],
      ['another resource', body({ EventName: 'subscription-updated' }), 'unknown_event'],
      ['no event name', body({ EventName: undefined }), 'unknown_event'],
      ['a name of another case', body({ EventName: 'Referral-Updated' }), 'unknown_event'],
      [
        'another host',
        body({ ResourceUri: `https://evil.example/engagements/v1/referrals/${ID}` }),
        'foreign_resource',
      ],
      [
        "Partner Center's name inside another host",
        body({ ResourceUri: `https://api.partnercenter.microsoft.com.evil.example/engagements/v1/referrals/${ID}` }),
        'foreign_resource',
      ],
      [
        'the configured host on another port',
        body({ ResourceUri: `https://127.0.0.1:9443/engagements/v1/referrals/${ID}` }),
        'foreign_resource',
      ],
      ['not a URL', body({ ResourceUri: 'referrals/1' }), 'bad_resource_uri'],
      ['no ResourceUri', body({ ResourceUri: null }), 'bad_resource_uri'],
      [
        'another scheme',
        body({ ResourceUri: `ftp://api.partnercenter.microsoft.com/engagements/v1/referrals/${ID}` }),
        'bad_resource_uri',
      ],
      [
        'another path',
        body({ ResourceUri: `https://api.partnercenter.microsoft.com/engagements/v1/opportunities/${ID}` }),
        'bad_resource_uri',
      ],
      [
        'an id that is no GUID',
        body({ ResourceUri: 'https://api.partnercenter.microsoft.com/engagements/v1/referrals/..%2F..%2Fadmin' }),
        'bad_resource_uri',
      ],
      [
        'a path under the referral',
        body({ ResourceUri: `https://api.partnercenter.microsoft.com/engagements/v1/referrals/${ID}/notes` }),
        'bad_resource_uri',
      ],
      ['no date', body({ ResourceChangeUtcDate: undefined }), 'bad_change_date'],
      ['a date that is not one', body({ ResourceChangeUtcDate: '2026-02-30T10:00:00Z' }), 'bad_change_date'],
    ];
    for (const [what, raw, reason] of cases) {
      const error = reasonFor(raw);
      expect(error.reason, what).toBe(reason);
      expect(error.code).toBe('bad_event');
    }
  });

  it('never quotes the body in an error; names an unknown event or host only when it looks like one', () => {
    const secret = 'Contoso-Customer-Jane-Doe';
    const errors = [
      reasonFor(body({ EventName: 'referral-deleted', Note: secret })),
      reasonFor(body({ EventName: `${secret} <script>` })),
      reasonFor(body({ ResourceUri: `https://evil.example/engagements/v1/referrals/${secret}` })),
      reasonFor(Buffer.from(`{"EventName": "${secret}"`)),
      reasonFor(body({ ResourceChangeUtcDate: secret })),
    ];
    expect(errors.map((e) => e.message)).toEqual([
      "unknown EventName 'referral-deleted'",
      'unknown EventName (not an event name)',
      'ResourceUri names evil.example, not Partner Center',
      'the body is not JSON',
      'ResourceChangeUtcDate is not a timestamp',
    ]);
  });
});
