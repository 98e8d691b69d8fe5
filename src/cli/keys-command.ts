/**
 * `referrals-lake keys`: the function keys of a deployed app made right, through the Azure CLI; azd
 * runs it after each deploy (azure.yaml, `postdeploy`). The read functions share one named key
 * (`flows`) and the write functions another (`writers`), as docs/security.md "Writes to Partner
 * Center" asks: a Power Automate connection holds one key, and a leaked read key must never open a
 * write route. The groups come from the function files' declarations (`keys: 'write'`), so a
 * function added by a later release joins its group's key at the next deploy.
 *
 * A value already set is kept, since connections use it; `--rotate read|write` replaces one group's.
 * Nothing is changed while the functions of a group disagree or a write function accepts the read
 * key. Lines for the operator go to stderr, the result as JSON on stdout. No key value is ever
 * printed, logged, put in an error or on a command line: az gets a value in a file only this user
 * reads, and every value read or made is registered with redact() before anything could print it.
 */

import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import { keyCaller } from '../actions/audit.js';
import type { HttpFunction } from '../common/azure-functions.js';
import { AzureCliError, ConfigError, FunctionKeysError } from '../common/errors.js';
import { registerSecret } from '../common/redact.js';
import { type AzureCli, runAzureCli, withPrivateFile } from './azure-cli.js';
import { wholeNumber } from './options.js';

export type KeyGroupName = 'read' | 'write';

/** The key's name on every function of a group: the name a connection's key is known by in Azure. */
export const KEY_NAMES: Readonly<Record<KeyGroupName, string>> = { read: 'flows', write: 'writers' };

export interface KeyGroup {
  readonly group: KeyGroupName;
  readonly keyName: string;
  readonly functions: readonly string[];
}

/** Where the keys are: the deployed app. */
export interface AppTarget {
  readonly subscription: string;
  readonly resourceGroup: string;
  readonly app: string;
}

/** What the command did to one function's key, or to a group's: `none` for a group with no function. */
type KeyAction = 'created' | 'kept' | 'joined' | 'rotated';
type GroupAction = KeyAction | 'none';

interface GroupPlan {
  readonly group: KeyGroup;
  /** The value every function of the group ends with; '' for a group with no function. */
  readonly value: string;
  readonly action: GroupAction;
  readonly functions: readonly { readonly name: string; readonly action: KeyAction }[];
}

/** A function's keys as Azure lists them: name → value. */
type FunctionKeys = Readonly<Record<string, string>>;

interface KeysFlags {
  resourceGroup?: string;
  app?: string;
  subscription?: string;
  rotate?: KeyGroupName;
  wait: number;
}

export interface KeysOptions {
  readonly rotate?: KeyGroupName;
  /** How long a function that does not answer yet (a deployment settling) is waited for. */
  readonly waitMs: number;
  readonly say: (line: string) => void;
}

/** Azure accepts 16 to 128 characters; 32 random bytes are 43 in base64url. */
const KEY_BYTES = 32;
const POLL_INTERVAL_MS = 5000;
/** The ARM operation that sets a function key (see setFunctionKey). */
const WEB_API_VERSION = '2022-03-01';

export function registerKeysCommand(program: Command): void {
  program
    .command('keys')
    .description(
      "Give the deployed app's read functions one shared key (flows) and its write functions another (writers), through the Azure CLI; azd runs it after each deploy.",
    )
    .addOption(new Option('--resource-group <name>', "the app's resource group").env('AZURE_RESOURCE_GROUP'))
    .addOption(new Option('--app <name>', 'the Function App').env('AZURE_FUNCTION_APP_NAME'))
    .addOption(
      new Option('--subscription <id>', "the app's subscription (default: az's current one)").env(
        'AZURE_SUBSCRIPTION_ID',
      ),
    )
    .addOption(
      new Option('--rotate <group>', "replace that group's key with a new value on all its functions").choices([
        'read',
        'write',
      ]),
    )
    .option('--wait <seconds>', 'how long to wait for functions a deployment has not brought up yet', wholeNumber, 120)
    .action(async (flags: KeysFlags) => {
      const resourceGroup = required(flags.resourceGroup, '--resource-group', 'AZURE_RESOURCE_GROUP');
      const app = required(flags.app, '--app', 'AZURE_FUNCTION_APP_NAME');
      const groups = keyGroups(await loadDeclarationsQuietly());
      const subscription = flags.subscription?.trim() || (await currentSubscription(runAzureCli));
      const result = await settleFunctionKeys(runAzureCli, { subscription, resourceGroup, app }, groups, {
        ...(flags.rotate ? { rotate: flags.rotate } : {}),
        waitMs: flags.wait * 1000,
        say: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}

function required(value: string | undefined, option: string, env: string): string {
  const given = value?.trim();
  if (!given) {
    throw new ConfigError(option, `missing: pass ${option} or set ${env} (azd sets it from the Bicep outputs)`);
  }
  return given;
}

/**
 * The HTTP declarations, loaded here rather than with the CLI (loading registers them). Outside the
 * host @azure/functions warns of its test mode once per function; those lines would bury this
 * command's own, so they alone are dropped.
 */
async function loadDeclarationsQuietly(): Promise<HttpFunction[]> {
  const { loadHttpFunctions } = await import('./function-modules.js');
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/"@azure\/functions" package (?:to|is in) test mode/.test(String(args[0]))) warn(...args);
  };
  try {
    return await loadHttpFunctions();
  } finally {
    console.warn = warn;
  }
}

/** The read group (every other function a key opens) and the write group (`keys: 'write'`), names sorted. */
export function keyGroups(declarations: readonly HttpFunction[]): KeyGroup[] {
  const unguarded = declarations.filter((fn) => fn.keys === 'write' && fn.authLevel !== 'function');
  if (unguarded.length > 0) {
    throw new FunctionKeysError(
      `${names(unguarded)} ${unguarded.length === 1 ? 'is' : 'are'} declared keys: 'write' without authLevel 'function': no function key guards ${unguarded.length === 1 ? 'it' : 'them'}`,
    );
  }
  const keyed = declarations.filter((fn) => fn.authLevel === 'function');
  if (keyed.length === 0) throw new FunctionKeysError('found no function declared with authLevel function');
  const members = (group: KeyGroupName) =>
    keyed
      .filter((fn) => (fn.keys === 'write' ? 'write' : 'read') === group)
      .map((fn) => fn.name)
      .sort();
  return (['read', 'write'] as const).map((group) => ({ group, keyName: KEY_NAMES[group], functions: members(group) }));
}

function names(declarations: readonly HttpFunction[]): string {
  return declarations.map((fn) => fn.name).join(', ');
}

async function currentSubscription(az: AzureCli): Promise<string> {
  const id = (await az(['account', 'show', '--query', 'id', '-o', 'tsv', '--only-show-errors'])).trim();
  if (!id) throw new AzureCliError('`az account show` named no subscription: pass --subscription');
  return id;
}

/**
 * Reads every keyed function's keys, decides each group's value, checks the read key opens no write
 * route, and only then sets what is missing or rotated: a refusal changes nothing.
 */
export async function settleFunctionKeys(
  az: AzureCli,
  target: AppTarget,
  groups: readonly KeyGroup[],
  options: KeysOptions,
): Promise<Record<string, unknown>> {
  const held = new Map<string, FunctionKeys>();
  for (const fn of groups.flatMap((group) => group.functions)) {
    held.set(fn, await untilUp(() => listKeys(az, target, fn), fn, options));
  }
  const plans = groups.map((group) => planGroup(group, held, options.rotate === group.group));
  checkSeparation(plans, held, target);
  const result: Record<string, unknown> = {
    subscription: target.subscription,
    resourceGroup: target.resourceGroup,
    app: target.app,
  };
  for (const plan of plans) {
    for (const fn of plan.functions) {
      if (fn.action !== 'kept') await untilUp(() => setFunctionKey(az, target, fn.name, plan), fn.name, options);
      options.say(`${plan.group.group} key "${plan.group.keyName}": ${fn.name} ${fn.action}`);
    }
    result[plan.group.group] = groupResult(plan, target);
  }
  for (const plan of plans) {
    const show = showCommand(plan, target);
    if (show) options.say(`Read the ${plan.group.group} key with: ${show}`);
  }
  return result;
}

function groupResult(plan: GroupPlan, target: AppTarget): Record<string, unknown> {
  return {
    key: plan.group.keyName,
    functions: plan.functions.map((fn) => fn.name),
    action: plan.action,
    // How the write routes' audit names a caller presenting this key: a digest, never the key.
    ...(plan.value ? { audit: keyCaller(plan.value) } : {}),
    ...(plan.value ? { show: showCommand(plan, target) } : {}),
  };
}

function showCommand(plan: GroupPlan, target: AppTarget): string | undefined {
  const [first] = plan.group.functions;
  if (!first) return undefined;
  return `az functionapp function keys list ${appArguments(target).join(' ')} --function-name ${first} --query ${plan.group.keyName} -o tsv`;
}

/** Retries a call Azure may answer later (a function a deployment has not brought up yet), up to the wait. */
async function untilUp<T>(call: () => Promise<T>, fn: string, options: KeysOptions): Promise<T> {
  const deadline = Date.now() + options.waitMs;
  let said = false;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const left = deadline - Date.now();
      if (!(error instanceof AzureCliError) || !error.transient || left <= 0) throw error;
      if (!said) options.say(`${fn}: not answering yet; trying again for up to ${Math.ceil(left / 1000)} s`);
      said = true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, left)));
    }
  }
}

async function listKeys(az: AzureCli, target: AppTarget, fn: string): Promise<FunctionKeys> {
  const answer = await az([
    'functionapp',
    'function',
    'keys',
    'list',
    ...appArguments(target),
    '--function-name',
    fn,
    '-o',
    'json',
    '--only-show-errors',
  ]);
  let keys: unknown;
  try {
    keys = JSON.parse(answer);
  } catch (error) {
    // Not quoted: the answer holds keys.
    throw new AzureCliError(`\`az functionapp function keys list\` answered no JSON for ${fn}`, false, {
      cause: error,
    });
  }
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw new AzureCliError(`\`az functionapp function keys list\` answered no object of keys for ${fn}`);
  }
  const values = Object.entries(keys).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  for (const [, value] of values) registerSecret(value);
  return Object.fromEntries(values);
}

function appArguments(target: AppTarget): string[] {
  return ['--subscription', target.subscription, '-g', target.resourceGroup, '-n', target.app];
}

/** Keeps the group's value where it is set; a new one when none is (or when rotating). */
function planGroup(group: KeyGroup, held: ReadonlyMap<string, FunctionKeys>, rotate: boolean): GroupPlan {
  if (group.functions.length === 0) return { group, value: '', action: 'none', functions: [] };
  if (rotate) return everywhere(group, newKey(), 'rotated');
  const holders = valueHolders(group, held);
  if (holders.size > 1) throw disagreement(group, [...holders.values()]);
  const [existing] = holders.keys();
  if (existing === undefined) return everywhere(group, newKey(), 'created');
  const functions = group.functions.map((name) => ({
    name,
    action: held.get(name)?.[group.keyName] === existing ? ('kept' as const) : ('joined' as const),
  }));
  return {
    group,
    value: existing,
    action: functions.some((fn) => fn.action === 'joined') ? 'joined' : 'kept',
    functions,
  };
}

function everywhere(group: KeyGroup, value: string, action: KeyAction): GroupPlan {
  return { group, value, action, functions: group.functions.map((name) => ({ name, action })) };
}

function newKey(): string {
  const key = randomBytes(KEY_BYTES).toString('base64url');
  registerSecret(key);
  return key;
}

/** The group's key's values on its functions, each with the functions holding it. */
function valueHolders(group: KeyGroup, held: ReadonlyMap<string, FunctionKeys>): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  for (const fn of group.functions) {
    const value = held.get(fn)?.[group.keyName];
    if (value !== undefined) holders.set(value, [...(holders.get(value) ?? []), fn]);
  }
  return holders;
}

function disagreement(group: KeyGroup, split: readonly string[][]): FunctionKeysError {
  const [first, ...others] = split.map((fns) => fns.join(', '));
  return new FunctionKeysError(
    `the ${group.group} functions hold different values of the key "${group.keyName}": one on ${first}; ` +
      `${others.map((fns) => `another on ${fns}`).join('; ')}. Nothing was changed. To give them all one new value, ` +
      `run \`referrals-lake keys --rotate ${group.group}\` (every connection using a "${group.keyName}" key then needs it)`,
  );
}

/**
 * The rule of docs/security.md: the read key opens no write route, checked on the keys as they will
 * be (a value kept from an earlier manual setup could break it).
 */
function checkSeparation(
  plans: readonly GroupPlan[],
  held: ReadonlyMap<string, FunctionKeys>,
  target: AppTarget,
): void {
  const read = plans.find((plan) => plan.group.group === 'read');
  const write = plans.find((plan) => plan.group.group === 'write');
  if (!read?.value || !write) return;
  if (read.value === write.value) {
    throw new FunctionKeysError(
      `the read functions' "${read.group.keyName}" key and the write functions' "${write.group.keyName}" key have ` +
        'the same value, so a read key opens the write routes. Nothing was changed. Run `referrals-lake keys --rotate write`',
    );
  }
  const opened = write.group.functions.flatMap((fn) =>
    Object.entries({ ...held.get(fn), [write.group.keyName]: write.value })
      .filter(([, value]) => value === read.value)
      .map(([name]) => ({ fn, name })),
  );
  if (opened.length > 0) {
    throw new FunctionKeysError(
      `the write function${opened.length === 1 ? '' : 's'} ${opened.map((o) => `${o.fn} (as its key "${o.name}")`).join(', ')} ` +
        `accept${opened.length === 1 ? 's' : ''} the read key: a leaked read key opens a write route. Nothing was changed. ` +
        `Delete ${opened.length === 1 ? 'that key' : 'those keys'}: ` +
        opened
          .map(
            (o) =>
              `az functionapp function keys delete ${appArguments(target).join(' ')} --function-name ${o.fn} --key-name ${o.name}`,
          )
          .join('; '),
    );
  }
}

/**
 * PUT the key through ARM ("Web Apps - Create Or Update Function Secret",
 * https://learn.microsoft.com/rest/api/appservice/web-apps/create-or-update-function-secret; the
 * api-version the app's other `az rest` hint uses, src/config.ts). The reference lists the body's
 * `name` and `value` at its top; the service reads them under `properties`, where the Azure CLI's own
 * code maps KeyInfo's two fields. `az functionapp function keys set` would take the value as an
 * argument, readable in the process list: `az rest --body @file` reads it from a file. A URI without
 * a host is a resource id, which az rest sends to the ARM endpoint of the current cloud.
 */
async function setFunctionKey(az: AzureCli, target: AppTarget, fn: string, plan: GroupPlan): Promise<void> {
  const name = plan.group.keyName;
  const uri =
    `/subscriptions/${encodeURIComponent(target.subscription)}/resourceGroups/${encodeURIComponent(target.resourceGroup)}` +
    `/providers/Microsoft.Web/sites/${encodeURIComponent(target.app)}/functions/${encodeURIComponent(fn)}` +
    `/keys/${encodeURIComponent(name)}?api-version=${WEB_API_VERSION}`;
  const body = JSON.stringify({ properties: { name, value: plan.value } });
  // -o none: Azure's answer echoes the key.
  await withPrivateFile(body, (file) =>
    az(['rest', '--method', 'put', '--uri', uri, '--body', `@${file}`, '--only-show-errors', '-o', 'none']),
  );
}
