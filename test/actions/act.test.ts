/**
 * How a write that broke is told apart (src/actions/act.ts): `mayHaveLanded` decides whether an
 * Idempotency-Key keeps the failure (the change may be in Partner Center: never send it again) or
 * frees the key (nothing changed: the caller's retry runs afresh). A stub client fails where asked;
 * the audit lands in a folder lake and is read back from the files.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNewReferral, type WriteOutcome, writeReferral } from '../../src/actions/act.js';
import { AuthRequiredError, ThrottledError, UpstreamError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/log.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import type { PartnerCenterClient } from '../../src/source/client.js';

const ID = '0b9f7c1e-2d3a-4c5b-8e6f-7a8b9c0d1e2f';
const LEAD = { id: ID, status: 'New', substatus: 'Pending', direction: 'Incoming', eTag: '"0000aaaa"' };
const NEW_REFERRAL = {
  name: 'Fabrikam',
  customerName: 'Fabrikam Ltd',
  customerCountry: 'GB',
  consentToContact: true,
  consentToShareInfo: true,
  dealValue: 1000,
  currency: 'GBP',
};

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'act-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A client whose read and write do what `on` says. */
function client(on: { get?: () => unknown; patch?: () => unknown; create?: () => unknown }): PartnerCenterClient {
  return {
    getReferral: async () => (on.get ? on.get() : LEAD),
    patchReferral: async () => (on.patch ? on.patch() : { kind: 'done', referral: { ...LEAD, status: 'Active' } }),
    createReferral: async () => (on.create ? on.create() : { id: ID, status: 'New', substatus: 'Pending' }),
  } as unknown as PartnerCenterClient;
}

async function accept(folder: string, on: Parameters<typeof client>[0]): Promise<WriteOutcome> {
  const target = new LocalDirectoryTarget({ root: join(root, folder) });
  return writeReferral(
    { client: client(on), target, logger: silentLogger },
    { action: 'accept', referralId: ID, caller: 'key:test', correlationId: 'c-1' },
  );
}

async function audited(folder: string): Promise<Record<string, unknown>[]> {
  const base = join(root, folder, '_audit');
  const records: Record<string, unknown>[] = [];
  for (const day of await readdir(base)) {
    for (const file of await readdir(join(base, day))) {
      records.push(JSON.parse(await readFile(join(base, day, file), 'utf8')) as Record<string, unknown>);
    }
  }
  return records;
}

const throttled = () => {
  throw new ThrottledError('throttled', 3, undefined);
};
const failed = (status: number | undefined) => () => {
  throw new UpstreamError('Partner Center failed', status === undefined ? {} : { status });
};

describe('a write that broke', () => {
  it.each([
    ['the read before it failed', 'read-failed', { get: failed(503) }, false, 502],
    [
      'the sign-in was gone',
      'signed-out',
      { get: () => Promise.reject(new AuthRequiredError('no token')) },
      false,
      502,
    ],
    ['the write was throttled', 'throttled', { patch: throttled }, false, 503],
    ['the write was refused the sign-in', 'refused-401', { patch: failed(401) }, false, 502],
    ['the write failed after it was sent', 'sent-503', { patch: failed(503) }, true, 502],
    ['the answer was lost', 'lost', { patch: failed(undefined) }, true, 502],
  ] as const)(
    '%s: mayHaveLanded says so, audited with the status the caller hears',
    async (_, folder, on, landed, status) => {
      const outcome = await accept(folder, on);
      expect(outcome).toMatchObject({ kind: 'failed', mayHaveLanded: landed, problem: { status } });
      const [record] = await audited(folder);
      expect(record).toMatchObject({ action: 'accept', outcome: 'failed', status, referralId: ID });
    },
  );

  it('a create that broke after it was sent may have landed; one throttled did not', async () => {
    const target = new LocalDirectoryTarget({ root: join(root, 'create') });
    const create = (on: Parameters<typeof client>[0]) =>
      createNewReferral(
        { client: client(on), target, logger: silentLogger },
        { input: NEW_REFERRAL, caller: 'key:test', correlationId: 'c-2' },
      );
    expect(await create({ create: failed(500) })).toMatchObject({ kind: 'failed', mayHaveLanded: true });
    expect(await create({ create: throttled })).toMatchObject({ kind: 'failed', mayHaveLanded: false });
    expect(await create({})).toMatchObject({ kind: 'done' });
    expect((await audited('create')).map((r) => [r.outcome, r.status]).sort()).toEqual([
      ['done', 201],
      ['failed', 502],
      ['failed', 503],
    ]);
  });
});
