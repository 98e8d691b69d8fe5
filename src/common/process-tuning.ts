/**
 * Flags and environment for the Node process that runs a sync, set where the process is started:
 * none takes effect from inside a running process. Two ways in:
 *
 * - Processes this project starts (the benchmark's workers; the CLI's sync, which starts a tuned child
 *   of itself: src/cli/relaunch.ts) get `NODE_OPTIONS` and `MALLOC_MMAP_THRESHOLD_` (processTuning).
 * - The Functions host starts the Node worker (infra/, local.settings.sample.json): the flags go in
 *   `languageWorkers__node__arguments`, which the host puts on the worker's command line, and the
 *   glibc variable stays an app setting (functionAppTuning). On Flex Consumption an instance may
 *   already run a placeholder worker when the app's settings arrive; they are copied into its
 *   `process.env`, too late for node or glibc to read. Worker arguments make the host start a new
 *   worker for the app, which also reads the environment afresh.
 *
 * Measured on a sync into Azurite (docs/performance.md):
 *
 * - `--max-old-space-size`, a quarter of the instance's memory (512 MiB on the default 2 GB
 *   instance, 1 GiB on 4 GB): V8 paces its old-generation collections by its heap limit, which it
 *   derives from the memory it sees (4 GiB on the 24 GiB bench machine). Measured with referrals row
 *   groups of 8 MiB (an experiment then), a 100k sync peaked at 254–267 MiB with a limit of 2 GiB
 *   or more, the heap carrying ~60 MiB of garbage; at 193–194 MiB with 1 GiB, 187–191 with 512 MiB,
 *   in about the same time (21–25 s, the machine's noise). A sync's live heap is ~40 MiB and does
 *   not grow with the count; a quarter of the memory leaves the Functions host its share, and every
 *   machine then collects as the benchmark measured. Reaching the limit would end the worker, so
 *   it stays many times the live heap.
 * - `--max-semi-space-size=4`: V8 sizes the young generation from the memory it sees: 16 MiB
 *   semi-spaces here and on a 2 GB instance. A sync keeps them full; 4 MiB took ~30 MiB off a 100k
 *   sync's peak, with the heap limit above too.
 * - `MALLOC_MMAP_THRESHOLD_`: glibc raises its mmap threshold each time a large block is freed, after
 *   which large buffers come from the heap and fragment it (RSS kept creeping while the JS heap and
 *   buffers stayed flat). A fixed threshold keeps large buffers in mmap, returned on free. Read only
 *   by glibc (Linux, as on Flex Consumption); elsewhere it is a harmless variable.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

/** The Function App's default instance size (`instanceMemoryMB` in infra/). */
export const DEFAULT_INSTANCE_MEMORY_MB = 2048;

/** Node's flags for an instance with this much memory (the Bicep computes the same). */
export function nodeTuningFlags(instanceMemoryMB: number): string {
  return `--max-old-space-size=${Math.floor(instanceMemoryMB / 4)} --max-semi-space-size=4`;
}

const MALLOC_MMAP_THRESHOLD = '131072';

/** The environment of a Node process this project starts itself. */
export function processTuning(instanceMemoryMB: number): Readonly<Record<string, string>> {
  return { NODE_OPTIONS: nodeTuningFlags(instanceMemoryMB), MALLOC_MMAP_THRESHOLD_: MALLOC_MMAP_THRESHOLD };
}

/** The app settings that tune the Node worker the Functions host starts (infra/, local settings). */
export function functionAppTuning(instanceMemoryMB: number): Readonly<Record<string, string>> {
  return {
    languageWorkers__node__arguments: nodeTuningFlags(instanceMemoryMB),
    MALLOC_MMAP_THRESHOLD_: MALLOC_MMAP_THRESHOLD,
  };
}

/** What the benchmark's workers and the CLI's sync run with: the default instance's. */
export const PROCESS_TUNING = processTuning(DEFAULT_INSTANCE_MEMORY_MB);

/** What local.settings.sample.json sets for `func start`. */
export const FUNCTION_APP_TUNING = functionAppTuning(DEFAULT_INSTANCE_MEMORY_MB);

/**
 * Whether the tuning reached this process, for the sync's first log line: the heap limit
 * (~525 MiB with `--max-old-space-size=512`), the young generation's size (8 MiB with
 * `--max-semi-space-size=4`) and glibc's setting, so a deployment shows whether its host applied
 * them.
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
