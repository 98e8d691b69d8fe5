/**
 * `referrals-lake accept|decline|patch` (issue 21, point 3): the operator's writes through the same
 * code as the HTTP routes, run as a user runs the CLI, against the sandbox; judged in the sandbox's
 * book and the lake's `_audit/` (read with DuckDB).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { EXIT } from '../../src/cli/exit.js';
import type { Referral } from '../../src/schema/referral-resource.js';
import { runCli } from '../helpers/cli.js';
import { type DuckDb, openDuckDb, sqlString } from '../helpers/duckdb.js';

let sandbox: Sandbox;
let duck: DuckDb;
let work: string;
let env: Record<string, string>;
let leads: Referral[];

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: 2000, seed: 91 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'cli-writes-'));
  env = { ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'), LAKE_LOCAL_DIR: join(work, 'lake') };
  leads = sandbox.store.all().filter((r) => r.direction === 'Incoming' && r.status === 'New');
});

afterAll(async () => {
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const book = (id: string) => sandbox.store.all().find((r) => r.id === id) as Referral;

describe('the CLI writes', () => {
  it('accept, decline and patch through the same checks, with exit codes for scripts, audited as the user', async () => {
    const [first, second, third] = leads as [Referral, Referral, Referral];
    const accepted = await runCli(['accept', first.id], { env });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(JSON.parse(accepted.stdout.trim())).toMatchObject({
      referral_id: first.id,
      status: 'Active',
      substatus: 'Accepted',
    });
    expect(book(first.id).status).toBe('Active');

    const badReason = await runCli(['decline', second.id, '--reason', 'meh'], { env });
    expect(badReason.code).toBe(EXIT.configInvalid);
    expect(JSON.parse(badReason.stdout.trim())).toMatchObject({ status: 400, target: 'reason' });
    const stale = await runCli(['decline', second.id, '--reason', 'No capacity this quarter', '--if-match', '"old"'], {
      env,
    });
    expect(stale.code).toBe(EXIT.stale);
    expect(book(second.id).status).toBe('New');
    const declined = await runCli(
      ['decline', second.id, '--reason', 'No capacity this quarter', '--if-match', second.eTag as string],
      { env },
    );
    expect(declined.code, declined.stderr).toBe(0);
    expect(book(second.id)).toMatchObject({ status: 'Closed', substatus: 'Declined' });

    const patched = await runCli(['patch', third.id, '--json', '{"dealValue": 5000, "currency": "USD"}'], { env });
    expect(patched.code, patched.stderr).toBe(0);
    expect(book(third.id).details).toMatchObject({ dealValue: 5000, currency: 'USD' });

    const records = await duck.query(
      `SELECT caller, action, outcome FROM read_json(${sqlString(join(work, 'lake', '_audit', 'date=*', '*.ndjson'))}, format = 'newline_delimited') ORDER BY time`,
    );
    expect(records.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      'accept:done',
      'decline:refused',
      'decline:stale',
      'decline:done',
      'patch:done',
    ]);
    for (const record of records) expect(record.caller).toBe(`cli:${userInfo().username}`);
  });
});
