/**
 * `referrals-lake keys`, run as azd's postdeploy hook runs it, against a fake `az` first on PATH: a
 * Node script that answers exactly the calls the command makes (account show, function keys list,
 * rest PUT of a key from an @file body) from a JSON state file, records every argv, and refuses any
 * other call. The groups are checked against the function files' declarations, and no key value may
 * reach an argv, stdout or stderr.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { maskKeyLike } from '../../src/cli/azure-cli.js';
import { EXIT } from '../../src/cli/exit.js';
import { loadFunctionExports } from '../../src/cli/function-modules.js';
import { type CliRun, runCli } from '../helpers/cli.js';

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const RESOURCE_GROUP = 'rg-keys-test';
const APP = 'func-keys-test';

interface FakeState {
  subscription: string;
  resourceGroup: string;
  app: string;
  /** Function name → its keys (name → value), as `keys list` answers them. */
  functions: Record<string, Record<string, string>>;
  /** Every call's argv, in order. */
  calls: string[][];
  /** The @file of each PUT, and its mode bits when az read it. */
  bodyFiles: { path: string; mode: number }[];
  /** Function name → how many more `keys list` calls answer Not Found (a deployment settling). */
  notYet: Record<string, number>;
  loggedOut: boolean;
  /** A PUT fails, az's error quoting the body it was sent (key included). */
  refusePut: boolean;
}

const FAKE_AZ = `
import { readFileSync, statSync, writeFileSync } from 'node:fs';
const statePath = process.env.FAKE_AZ_STATE;
const state = JSON.parse(readFileSync(statePath, 'utf8'));
const argv = process.argv.slice(2);
state.calls.push(argv);
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
const fail = (message) => {
  save();
  process.stderr.write('ERROR: ' + message + '\\n');
  process.exit(1);
};
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const is = (...words) => words.every((word, i) => argv[i] === word);
if (state.loggedOut) fail("Please run 'az login' to setup account.");
if (is('account', 'show') && option('--query') === 'id' && option('-o') === 'tsv') {
  save();
  process.stdout.write(state.subscription + '\\n');
  process.exit(0);
}
if (is('functionapp', 'function', 'keys', 'list') && option('-o') === 'json') {
  if (option('--subscription') !== state.subscription) fail('(SubscriptionNotFound) not this subscription');
  if (option('-g') !== state.resourceGroup || option('-n') !== state.app) fail('(ResourceNotFound) no such app');
  const fn = option('--function-name');
  if ((state.notYet[fn] ?? 0) > 0) {
    state.notYet[fn] -= 1;
    fail("Operation returned an invalid status 'Not Found'");
  }
  if (!state.functions[fn]) fail("Operation returned an invalid status 'Not Found'");
  save();
  process.stdout.write(JSON.stringify(state.functions[fn], null, 2) + '\\n');
  process.exit(0);
}
if (is('rest') && option('--method') === 'put') {
  const path = '/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft.Web/sites/([^/]+)';
  const uri = new RegExp('^' + path + '/functions/([^/]+)/keys/([^/?]+)\\\\?api-version=2022-03-01$').exec(option('--uri'));
  if (!uri) fail('fake az: unexpected URI ' + option('--uri'));
  const [, subscription, group, app, fn, keyName] = uri;
  if (subscription !== state.subscription || group !== state.resourceGroup || app !== state.app) fail('(ResourceNotFound)');
  if (!state.functions[fn]) fail("Operation returned an invalid status 'Not Found'");
  const body = option('--body');
  if (!body?.startsWith('@')) fail('fake az: the body is not a file');
  state.bodyFiles.push({ path: body.slice(1), mode: statSync(body.slice(1)).mode & 0o777 });
  const { properties } = JSON.parse(readFileSync(body.slice(1), 'utf8'));
  if (state.refusePut) fail('(BadRequest) refused ' + JSON.stringify(properties) + ' value=' + properties.value);
  if (properties?.name !== keyName) fail('(BadRequest) the body names another key');
  if (typeof properties.value !== 'string' || properties.value.length < 16 || properties.value.length > 128) {
    fail('(BadRequest) a key is 16 to 128 characters');
  }
  state.functions[fn][keyName] = properties.value;
  save();
  // Like az with -o none: nothing on stdout, though Azure's answer holds the key.
  process.exit(option('-o') === 'none' ? 0 : 3);
}
fail('fake az: unexpected call: ' + argv.join(' '));
`;

let work: string;
let bin: string;
let statePath: string;
let declared: { read: string[]; write: string[] };
/** Every key value the fake held at any time: none may show anywhere. */
const seen = new Set<string>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cli-keys-'));
  bin = join(work, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'fake-az.mjs'), FAKE_AZ);
  await writeFile(join(bin, 'az'), `#!/bin/sh\nexec "${process.execPath}" "$(dirname "$0")/fake-az.mjs" "$@"\n`);
  await chmod(join(bin, 'az'), 0o755);
  await writeFile(join(bin, 'az.cmd'), `@"${process.execPath}" "%~dp0fake-az.mjs" %*\r\n`);
  statePath = join(work, 'az-state.json');
  declared = await declaredGroups();
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  await writeState({
    subscription: SUBSCRIPTION,
    resourceGroup: RESOURCE_GROUP,
    app: APP,
    // As a deployment leaves them: each function with its own default key.
    functions: Object.fromEntries(
      [...declared.read, ...declared.write].map((fn) => [fn, { default: randomBytes(40).toString('base64') }]),
    ),
    calls: [],
    bodyFiles: [],
    notYet: {},
    loggedOut: false,
    refusePut: false,
  });
});

/** The groups as the function files declare them, read independently of the command. */
async function declaredGroups(): Promise<{ read: string[]; write: string[] }> {
  const http = (await loadFunctionExports()).filter(
    (e): e is { name: string; authLevel?: string; keys?: string } =>
      typeof e === 'object' && e !== null && 'route' in e && 'name' in e,
  );
  return {
    read: http
      .filter((fn) => fn.authLevel === 'function' && fn.keys !== 'write')
      .map((fn) => fn.name)
      .sort(),
    write: http
      .filter((fn) => fn.keys === 'write')
      .map((fn) => fn.name)
      .sort(),
  };
}

async function readState(): Promise<FakeState> {
  const state = JSON.parse(await readFile(statePath, 'utf8')) as FakeState;
  for (const keys of Object.values(state.functions)) for (const value of Object.values(keys)) seen.add(value);
  return state;
}

async function writeState(state: FakeState): Promise<void> {
  for (const keys of Object.values(state.functions)) for (const value of Object.values(keys)) seen.add(value);
  await writeFile(statePath, JSON.stringify(state, null, 2));
}

async function change(edit: (state: FakeState) => void): Promise<void> {
  const state = await readState();
  edit(state);
  await writeState(state);
}

function keysEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
    FAKE_AZ_STATE: statePath,
    AZURE_RESOURCE_GROUP: RESOURCE_GROUP,
    AZURE_FUNCTION_APP_NAME: APP,
    ...extra,
  };
}

/** `referrals-lake keys …` with the fake az; then nothing the fake ever held shows in argv or output. */
async function keys(args: string[] = [], env = keysEnv()): Promise<CliRun & { result: Record<string, never> }> {
  const run = await runCli(['keys', '--wait', '0', ...args], { env });
  const state = await readState();
  const shown = [run.stdout, run.stderr, ...state.calls.flat()].join('\n');
  for (const value of seen) expect(shown).not.toContain(value);
  for (const file of state.bodyFiles) {
    expect(file.mode).toBe(0o600);
    expect(existsSync(file.path)).toBe(false);
  }
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  return { ...run, result: last.startsWith('{') ? JSON.parse(last) : {} };
}

const puts = (state: FakeState) => state.calls.filter((argv) => argv[0] === 'rest');
const valuesOf = (state: FakeState, fns: readonly string[], key: string) =>
  new Set(fns.map((fn) => state.functions[fn]?.[key]));
const only = (values: Set<string | undefined>): string => {
  expect(values.size).toBe(1);
  const [value] = values;
  expect(value).toEqual(expect.any(String));
  return value as string;
};

// Several CLI runs a test, each loading every function file: more than the default 30 s on a busy machine.
describe('referrals-lake keys', { timeout: 60_000 }, () => {
  it('first run: one new value shared by the read functions, another by the write functions, the groups as declared', async () => {
    expect(declared.read.length).toBeGreaterThan(0);
    expect(declared.write.length).toBeGreaterThan(0);
    const before = await readState();
    const run = await keys();
    expect(run.code, run.stderr).toBe(0);

    const state = await readState();
    const read = only(valuesOf(state, declared.read, 'flows'));
    const write = only(valuesOf(state, declared.write, 'writers'));
    expect(read).not.toBe(write);
    expect(read.length).toBeGreaterThanOrEqual(16);
    expect(valuesOf(state, declared.write, 'flows')).toEqual(new Set([undefined]));
    expect(valuesOf(state, declared.read, 'writers')).toEqual(new Set([undefined]));
    for (const fn of [...declared.read, ...declared.write]) {
      expect(state.functions[fn]?.default).toBe(before.functions[fn]?.default);
    }
    expect(puts(state)).toHaveLength(declared.read.length + declared.write.length);
    expect(state.bodyFiles).toHaveLength(puts(state).length);

    expect(run.result).toMatchObject({
      subscription: SUBSCRIPTION,
      resourceGroup: RESOURCE_GROUP,
      app: APP,
      read: { key: 'flows', functions: declared.read, action: 'created', audit: caller(read) },
      write: { key: 'writers', functions: declared.write, action: 'created', audit: caller(write) },
    });
    expect(run.result.read).toMatchObject({
      show: `az functionapp function keys list --subscription ${SUBSCRIPTION} -g ${RESOURCE_GROUP} -n ${APP} --function-name ${declared.read[0]} --query flows -o tsv`,
    });
    for (const fn of declared.read) expect(run.stderr).toContain(`read key "flows": ${fn} created`);
    for (const fn of declared.write) expect(run.stderr).toContain(`write key "writers": ${fn} created`);
    expect(run.stderr).not.toMatch(/test mode/);
  });

  it('a second run changes nothing', async () => {
    expect((await keys()).code).toBe(0);
    const settled = await readState();
    const run = await keys([], keysEnv({ AZURE_SUBSCRIPTION_ID: SUBSCRIPTION }));
    expect(run.code, run.stderr).toBe(0);
    const state = await readState();
    expect(state.functions).toEqual(settled.functions);
    const calls = state.calls.slice(settled.calls.length);
    expect(calls.filter((argv) => argv[0] !== 'functionapp')).toEqual([]);
    expect(run.result).toMatchObject({ read: { action: 'kept' }, write: { action: 'kept' } });
    for (const fn of declared.read) expect(run.stderr).toContain(`read key "flows": ${fn} kept`);
  });

  it("a function lacking its group's key joins the group's value", async () => {
    expect((await keys()).code).toBe(0);
    const newcomer = declared.read.at(-1) as string;
    await change((state) => {
      delete state.functions[newcomer]?.flows;
    });
    const settled = await readState();
    const run = await keys();
    expect(run.code, run.stderr).toBe(0);
    const state = await readState();
    only(valuesOf(state, declared.read, 'flows'));
    expect(state.functions[newcomer]?.flows).toBe(settled.functions[declared.read[0] as string]?.flows);
    const newPuts = puts(state).slice(puts(settled).length);
    expect(newPuts).toHaveLength(1);
    expect(newPuts[0]?.join(' ')).toContain(`/functions/${newcomer}/keys/flows?`);
    expect(run.result).toMatchObject({ read: { action: 'joined' }, write: { action: 'kept' } });
    expect(run.stderr).toContain(`read key "flows": ${newcomer} joined`);
  });

  it('functions of a group holding different values: exit ≠ 0 naming them, nothing changed', async () => {
    expect((await keys()).code).toBe(0);
    const [odd, ...rest] = declared.read as [string, ...string[]];
    await change((state) => {
      (state.functions[odd] as Record<string, string>).flows = randomBytes(32).toString('base64url');
    });
    const settled = await readState();
    const run = await keys();
    expect(run.code).toBe(EXIT.failure);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/different values of the key "flows"/);
    expect(run.stderr).toContain(odd);
    for (const fn of rest) expect(run.stderr).toContain(fn);
    expect(run.stderr).toContain('--rotate read');
    const state = await readState();
    expect(puts(state)).toEqual(puts(settled));
    expect(state.functions).toEqual(settled.functions);
  });

  it('--rotate write gives the write functions a new value, and leaves the read functions alone', async () => {
    expect((await keys()).code).toBe(0);
    const settled = await readState();
    const oldWrite = only(valuesOf(settled, declared.write, 'writers'));
    const run = await keys(['--rotate', 'write']);
    expect(run.code, run.stderr).toBe(0);
    const state = await readState();
    const newWrite = only(valuesOf(state, declared.write, 'writers'));
    expect(newWrite).not.toBe(oldWrite);
    for (const fn of declared.read) expect(state.functions[fn]).toEqual(settled.functions[fn]);
    expect(puts(state).slice(puts(settled).length)).toHaveLength(declared.write.length);
    expect(run.result).toMatchObject({
      read: { action: 'kept' },
      write: { action: 'rotated', audit: caller(newWrite) },
    });
  });

  it('a write function accepting the read key, or one value for both groups: refused, nothing changed', async () => {
    expect((await keys()).code).toBe(0);
    const read = only(valuesOf(await readState(), declared.read, 'flows'));
    const target = declared.write[0] as string;
    await change((state) => {
      (state.functions[target] as Record<string, string>).flows = read;
    });
    let settled = await readState();
    const opened = await keys();
    expect(opened.code).toBe(EXIT.failure);
    expect(opened.stderr).toContain(`${target} (as its key "flows")`);
    expect(opened.stderr).toContain(`--function-name ${target} --key-name flows`);
    expect(puts(await readState())).toEqual(puts(settled));

    await change((state) => {
      delete state.functions[target]?.flows;
      for (const fn of declared.write) (state.functions[fn] as Record<string, string>).writers = read;
    });
    settled = await readState();
    const same = await keys();
    expect(same.code).toBe(EXIT.failure);
    expect(same.stderr).toMatch(/same value/);
    expect(same.stderr).toContain('--rotate write');
    expect(puts(await readState())).toEqual(puts(settled));
    expect((await keys(['--rotate', 'write'])).code).toBe(0);
  });

  it('a function a deployment has not brought up yet is waited for', async () => {
    const late = declared.write[0] as string;
    await change((state) => {
      state.notYet[late] = 1;
    });
    const run = await runCli(['keys', '--wait', '3'], { env: keysEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`${late}: not answering yet`);
    expect((await readState()).functions[late]?.writers).toEqual(expect.any(String));
  });

  it('no resource group: a clear error naming the option and the variable, and no az call', async () => {
    const { AZURE_RESOURCE_GROUP: _omitted, ...env } = keysEnv();
    const run = await keys([], env);
    expect(run.code).toBe(EXIT.configInvalid);
    expect(run.stderr).toMatch(/--resource-group.*AZURE_RESOURCE_GROUP/);
    expect((await readState()).calls).toEqual([]);
  });

  it('az missing or failing: a clear error, exit ≠ 0', async () => {
    const empty = join(work, 'empty');
    await mkdir(empty, { recursive: true });
    const missing = await keys([], keysEnv({ PATH: empty }));
    expect(missing.code).toBe(EXIT.failure);
    expect(missing.stderr).toMatch(/Azure CLI \(`az`\) is not on PATH/);

    await change((state) => {
      state.loggedOut = true;
    });
    const failing = await keys();
    expect(failing.code).toBe(EXIT.failure);
    expect(failing.stderr).toMatch(/`az account show .*` failed \(exit 1\).*az login/);

    // az's error quoting the key it was sent: shown (keys() checks no value is), the key masked.
    await change((state) => {
      state.loggedOut = false;
      state.refusePut = true;
    });
    const refused = await keys();
    expect(refused.code).toBe(EXIT.failure);
    expect(refused.stderr).toMatch(
      /`az rest --method put .*` failed \(exit 1\): ERROR: \(BadRequest\) refused .*\*\*\*/,
    );
  });
});

describe("az's errors", () => {
  it('mask a key the command never read, and keep the names and ids that say what failed', () => {
    const key = 'q7Vx2LmN9pRt4WbYc8ZdKe3HfJg6Ah5S-_0uio1';
    const id = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Web/sites/${APP}`;
    expect(maskKeyLike(`(BadRequest) key ${key} refused for ${id}`)).toBe(`(BadRequest) key *** refused for ${id}`);
  });
});

/** How the write routes' audit names a caller presenting this key. */
function caller(key: string): string {
  return `key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}
