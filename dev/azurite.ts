/**
 * Azurite's blob service as a child process, stopped by its own process id: the one launcher for the
 * demo (data kept in a folder) and the tests (in memory). The blob entry script is started with node
 * directly: stopping an `npx azurite` wrapper would leave Azurite running. Azurite is a
 * devDependency, so this module is for development only and loads nothing from it until called.
 *
 * Flags (Azurite 3.35):
 * - `--blobPort 0`: the OS picks a free port and Azurite prints it ("successfully listens on
 *   http://127.0.0.1:<port>"); reading it back avoids the probe-then-bind race of picking one first.
 * - `--skipApiVersionCheck`: Azurite rejects the newer x-ms-version @azure/storage-blob sends.
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

/** Azurite's well-known development account and key: public, documented, not a secret. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Folder that keeps the blobs between runs (created if missing); absent: in memory, gone on stop. */
  readonly location?: string;
}

export interface Azurite {
  readonly connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly blobEndpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Stops Azurite (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const LISTENING = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/;

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const entry = blobEntryScript();
  if (options.location !== undefined) {
    const location = resolve(options.location);
    await mkdir(location, { recursive: true });
    const { child, port } = await launch(entry, location, ['--location', location]);
    return handle(child, port);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'azurite-'));
  try {
    const { child, port } = await launch(entry, workDir, ['--inMemoryPersistence', '--extentMemoryLimit', '1024']);
    return handle(child, port, () => rm(workDir, { recursive: true, force: true }));
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

function blobEntryScript(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('azurite/package.json');
  } catch {
    throw new Error('Azurite is not installed: it is a devDependency, so run `npm ci` (without --omit=dev) first');
  }
  return join(dirname(manifest), 'dist', 'src', 'blob', 'main.js');
}

async function launch(
  entry: string,
  cwd: string,
  persistence: readonly string[],
): Promise<{ child: ChildProcess; port: number }> {
  const args = [
    entry,
    ...['--blobHost', '127.0.0.1', '--blobPort', '0'],
    ...persistence,
    ...['--skipApiVersionCheck', '--disableTelemetry', '--silent'],
  ];
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  // Until handle() takes over: if this process exits while Azurite starts, take Azurite with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    const port = await listeningPort(child);
    return { child, port };
  } catch (error) {
    await killAndWait(child);
    throw error;
  } finally {
    process.off('exit', killOnExit);
  }
}

/** Resolves with the port once Azurite says it listens; rejects if it exits or stays silent. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`Azurite did not listen within ${START_TIMEOUT_MS} ms: ${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      const match = LISTENING.exec(output);
      if (match) done(Number(match[1]));
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`Azurite exited (${code ?? signal}) while starting: ${output}`));
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

function handle(child: ChildProcess, port: number, cleanUp?: () => Promise<void>): Azurite {
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  // If this process dies without stop(), take Azurite with it rather than leave it running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`,
    blobEndpoint,
    port,
    pid: child.pid ?? -1,
    stop() {
      stopped ??= killAndWait(child).finally(async () => {
        process.off('exit', killOnExit);
        await cleanUp?.();
      });
      return stopped;
    },
  };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // A plain timer, cleared on exit: a pending one would keep this process alive for STOP_TIMEOUT_MS.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
  });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await exited;
  }
}
