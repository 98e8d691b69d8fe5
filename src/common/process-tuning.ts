/**
 * Environment for the Node process that runs a sync, set where the process is started (Function App
 * settings in infra/, local.settings.sample.json, the benchmark's workers): neither takes effect
 * from inside a running process. Measured on a sync into Azurite (docs/performance.md):
 *
 * - `--max-semi-space-size=4`: V8 sizes the young generation from the memory it sees: 16 MiB
 *   semi-spaces here (24 GiB) and on a 2 GB instance, about 1 MiB on a 512 MB one (where this flag
 *   would raise it: drop it there). A sync keeps them full; 4 MiB took 40 MB off a 100k sync's peak.
 * - `MALLOC_MMAP_THRESHOLD_`: glibc raises its mmap threshold each time a large block is freed, after
 *   which the 1 MiB write chunks come from the heap and fragment it (RSS kept creeping while the JS
 *   heap and buffers stayed flat). A fixed threshold keeps large buffers in mmap, returned on free.
 *   Read only by glibc (Linux, as on Flex Consumption); elsewhere it is a harmless variable.
 *
 * Together they cost ~10–15% more sync time for ~60 MB less peak RSS (docs/performance.md).
 */
import { getHeapSpaceStatistics } from 'node:v8';

export const PROCESS_TUNING: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--max-semi-space-size=4',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/**
 * Whether the tuning reached this process, for the sync's first log line: the young generation's
 * size (8 MiB with `--max-semi-space-size=4`) and glibc's setting, so a deployment shows whether
 * its host applied them.
 */
export function processTuningInEffect(): { youngGenerationMiB: number; mallocMmapThreshold: string | undefined } {
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  return {
    youngGenerationMiB: Math.round((young?.space_size ?? 0) / 2 ** 20),
    mallocMmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_,
  };
}
