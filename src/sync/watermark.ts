/**
 * The incremental cursor: the newest updatedDateTime a successful run has published, kept in the
 * lake (`_state/watermark.json`). It moves only after a run's manifest is written, and only by a
 * conditional replace, so a run that lost its lease cannot move it backwards under a newer one.
 */
import { statePath } from '../lake/layout/paths.js';
import type { StorageTarget } from '../lake/storage/storage.js';

export const WATERMARK_PATH = statePath('watermark.json');

export interface Watermark {
  /** Canonical UTC timestamp: referrals updated at or after it minus the overlap are pulled next time. */
  readonly updatedDateTime: string;
  readonly runId: string;
  readonly writtenAt: string;
}

export async function readWatermark(
  target: StorageTarget,
): Promise<{ watermark: Watermark; etag: string } | undefined> {
  const file = await target.read(WATERMARK_PATH);
  if (!file) return undefined;
  const parsed = JSON.parse(file.body.toString('utf8')) as Partial<Watermark>;
  if (typeof parsed.updatedDateTime !== 'string' || typeof parsed.runId !== 'string') {
    throw new Error(`${target.describe()} ${WATERMARK_PATH} is not a watermark; delete it to run in full`);
  }
  return { watermark: parsed as Watermark, etag: file.etag };
}

/** Writes the new watermark unless another run changed it since `etag` was read. */
export async function writeWatermark(
  target: StorageTarget,
  watermark: Watermark,
  etag: string | undefined,
): Promise<boolean> {
  const body = Buffer.from(`${JSON.stringify(watermark, null, 2)}\n`);
  if (etag === undefined) return (await target.createIfAbsent(WATERMARK_PATH, body)).created;
  return (await target.replaceIfMatch(WATERMARK_PATH, body, etag)).replaced;
}
