/**
 * Environment for the Node process that runs a sync, set where the process is started (Function App
 * settings in infra/, local.settings.sample.json, the benchmark's workers): neither takes effect
 * from inside a running process. Measured on a sync into Azurite (docs/performance.md):
 *
 * - `--max-semi-space-size=4`: V8's young generation defaults to 16 MiB semi-spaces, and a sync
 *   allocates fast enough to keep them full; 4 MiB took 30 MB off peak RSS at no cost in time.
 * - `MALLOC_MMAP_THRESHOLD_`: glibc raises its mmap threshold each time a large block is freed, after
 *   which the 1 MiB write chunks come from the heap and fragment it (RSS kept creeping while the JS
 *   heap and buffers stayed flat). A fixed threshold keeps large buffers in mmap, returned on free.
 *   Read only by glibc (Linux, as on Flex Consumption); elsewhere it is a harmless variable.
 */
export const PROCESS_TUNING: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--max-semi-space-size=4',
  MALLOC_MMAP_THRESHOLD_: '131072',
};
