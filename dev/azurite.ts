/**
 * Azurite's blob and queue services as two child processes, each stopped by its own process id: the
 * one launcher for the demo (data kept in a folder) and the tests (in memory). The entry scripts
 * (the package's `azurite-blob` and `azurite-queue` bins) are started with node directly: stopping
 * an `npx azurite` wrapper would leave Azurite running, and the all-in-one `azurite` bin would add
 * a table service nothing uses. Azurite is a devDependency, so this module is for development only
 * and loads nothing from it until called.
 *
 * Flags (Azurite 3.35):
 * - `--blobPort 0` / `--queuePort 0`: the OS picks a free port and Azurite prints it ("successfully
 *   listens on http://127.0.0.1:<port>"); reading it back avoids the probe-then-bind race of picking
 *   one first.
 * - `--skipApiVersionCheck`: Azurite rejects the newer x-ms-version the Azure SDKs send.
 * - With `location`: `--location <folder>`, data kept between runs. Without: `--inMemoryPersistence`
 *   (+ `--extentMemoryLimit`), nothing on disk and faster; it refuses `--location`, so the process
 *   runs in a temp folder instead (removed on stop).
 * - `--disableTelemetry`, `--silent` (no access log).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { killAndWait } from './stop-child.js';

/** Azurite's well-known development account and key: public, documented, not a secret. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Folder that keeps blobs and queues between runs (created if missing); absent: in memory, gone on stop. */
  readonly location?: string;
}

export interface Azurite {
  /** Names both endpoints (`BlobEndpoint=…;QueueEndpoint=…`): one string for the lake and the queue. */
  readonly connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly blobEndpoint: string;
  /** The blob service's port. */
  readonly port: number;
  /** The blob service's process id. */
  readonly pid: number;
  /** `http://127.0.0.1:<queuePort>/devstoreaccount1` */
  readonly queueEndpoint: string;
  readonly queuePort: number;
  readonly queuePid: number;
  /** Stops both services (SIGTERM, then SIGKILL after 5 s) and resolves once both have exited. Idempotent. */
  stop(): Promise<void>;
}

type Service = 'blob' | 'queue';

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
}

const START_TIMEOUT_MS = 20_000;
const LISTENING = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/;

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  if (options.location !== undefined) {
    const location = resolve(options.location);
    await mkdir(location, { recursive: true });
    // Both services share the folder, as the all-in-one Azurite does: their files have distinct names.
    const [blob, queue] = await launchBoth(location, ['--location', location]);
    return handle(blob, queue);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'azurite-'));
  try {
    const [blob, queue] = await launchBoth(workDir, ['--inMemoryPersistence', '--extentMemoryLimit', '1024']);
    return handle(blob, queue, () => rm(workDir, { recursive: true, force: true }));
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** Starts both side by side; if one fails, the other is stopped before the failure is thrown. */
async function launchBoth(cwd: string, persistence: readonly string[]): Promise<[Started, Started]> {
  const results = await Promise.allSettled([launch('blob', cwd, persistence), launch('queue', cwd, persistence)]);
  const [blob, queue] = results;
  if (blob.status === 'fulfilled' && queue.status === 'fulfilled') return [blob.value, queue.value];
  await Promise.all(results.map((r) => (r.status === 'fulfilled' ? killAndWait(r.value.child) : undefined)));
  throw results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
}

/** The package's `azurite-blob` or `azurite-queue` entry script. */
function entryScript(service: Service): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('azurite/package.json');
  } catch {
    throw new Error('Azurite is not installed: it is a devDependency, so run `npm ci` (without --omit=dev) first');
  }
  return join(dirname(manifest), 'dist', 'src', service, 'main.js');
}

async function launch(service: Service, cwd: string, persistence: readonly string[]): Promise<Started> {
  const args = [
    entryScript(service),
    ...[`--${service}Host`, '127.0.0.1', `--${service}Port`, '0'],
    ...persistence,
    ...['--skipApiVersionCheck', '--disableTelemetry', '--silent'],
  ];
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  // Until handle() takes over: if this process exits while Azurite starts, take Azurite with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    const port = await listeningPort(service, child);
    return { child, port };
  } catch (error) {
    await killAndWait(child);
    throw error;
  } finally {
    process.off('exit', killOnExit);
  }
}

/** Resolves with the port once Azurite says it listens; rejects if it exits or stays silent. */
function listeningPort(service: Service, child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`Azurite ${service} did not listen within ${START_TIMEOUT_MS} ms: ${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      const match = LISTENING.exec(output);
      if (match) done(Number(match[1]));
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`Azurite ${service} exited (${code ?? signal}) while starting: ${output}`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', fail);
      // Keep draining so a chatty child never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
    };
    function done(port: number) {
      cleanup();
      resolve(port);
    }
    function fail(error: Error) {
      cleanup();
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', fail);
  });
}

function handle(blob: Started, queue: Started, cleanUp?: () => Promise<void>): Azurite {
  const blobEndpoint = `http://127.0.0.1:${blob.port}/${AZURITE_ACCOUNT}`;
  const queueEndpoint = `http://127.0.0.1:${queue.port}/${AZURITE_ACCOUNT}`;
  // If this process dies without stop(), take Azurite with it rather than leave it running.
  const killOnExit = () => {
    blob.child.kill('SIGKILL');
    queue.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};`,
    blobEndpoint,
    port: blob.port,
    pid: blob.child.pid ?? -1,
    queueEndpoint,
    queuePort: queue.port,
    queuePid: queue.child.pid ?? -1,
    stop() {
      stopped ??= Promise.all([killAndWait(blob.child), killAndWait(queue.child)])
        .then(() => undefined)
        .finally(async () => {
          process.off('exit', killOnExit);
          await cleanUp?.();
        });
      return stopped;
    },
  };
}
