/**
 * What one function instance's trigger polls share: the lake, opened once from the settings, and the
 * state codec. Built at the first poll; a settings error is not cached, so fixing an app setting
 * needs no restart.
 */
import { loadPartnerCenterConfig, readSetting } from '../../config.js';
import type { StorageTarget } from '../../lake/storage/storage.js';
import { liveLake, resetLiveLake } from '../lake.js';
import { Sealer } from '../sealed.js';
import { TriggerStateCodec } from './state.js';

export interface TriggerInstance {
  readonly target: StorageTarget;
  readonly codec: TriggerStateCodec;
}

let instance: Promise<TriggerInstance> | undefined;

export function triggerInstance(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<TriggerInstance> {
  instance ??= build(env).catch((error: unknown) => {
    instance = undefined;
    throw error;
  });
  return instance;
}

async function build(env: Readonly<Record<string, string | undefined>>): Promise<TriggerInstance> {
  // TRIGGER_STATE_KEY outlives credential rotations; without it, the credential is the secret at hand.
  const secret = readSetting(env, 'TRIGGER_STATE_KEY') ?? Sealer.secretOf(loadPartnerCenterConfig(env));
  const codec = new TriggerStateCodec(secret);
  return { target: await liveLake(env), codec };
}

/** Tests: the next poll builds the instance again from the settings then. */
export function resetTriggerInstance(): void {
  instance = undefined;
  resetLiveLake();
}
