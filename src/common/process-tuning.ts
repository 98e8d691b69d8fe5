/**
 * Environment for the Node process that runs a sync, set where the process is started (Function App
 * settings in infra/, local.settings.sample.json, the benchmark's workers): none takes effect from
 * inside a running process. Measured on a sync into Azurite (docs/performance.md):
 *
 * - `--max-old-space-size=1024`: V8 paces its old-generation collections by its heap limit, which it
 *   derives from the memory it sees (4 GiB on the 24 GiB bench machine). With a limit of 2 GiB or
 *   more a 100k sync peaked at 266–280 MB, the heap carrying ~70 MB of garbage; with 1 GiB or less,
 *   at 200–218 MB, as fast. 1 GiB is twenty times the sync's live objects, fits both instance sizes
 *   the Bicep allows (2 and 4 GB, shared with the Functions host), and makes every machine collect
 *   as the benchmark measured.
 * - `--max-semi-space-size=4`: V8 sizes the young generation from the memory it sees: 16 MiB
 *   semi-spaces here and on a 2 GB instance. A sync keeps them full; 4 MiB took 30–40 MB off a 100k
 *   sync's peak.
 * - `MALLOC_MMAP_THRESHOLD_`: glibc raises its mmap threshold each time a large block is freed, after
 *   which large buffers come from the heap and fragment it (RSS kept creeping while the JS heap and
 *   buffers stayed flat). A fixed threshold keeps large buffers in mmap, returned on free. Read only
 *   by glibc (Linux, as on Flex Consumption); elsewhere it is a harmless variable.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

export const PROCESS_TUNING: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--max-old-space-size=1024 --max-semi-space-size=4',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/**
 * Whether the tuning reached this process, for the sync's first log line: the heap limit (~1,050 MiB
 * with `--max-old-space-size=1024`), the young generation's size (8 MiB with
 * `--max-semi-space-size=4`) and glibc's setting, so a deployment shows whether its host applied them.
 */
export function processTuningInEffect(): {
  heapLimitMiB: number;
  youngGenerationMiB: number;
  mallocMmapThreshold: string | undefined;
} {
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  return {
    heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    youngGenerationMiB: Math.round((young?.space_size ?? 0) / 2 ** 20),
    mallocMmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_,
  };
}
