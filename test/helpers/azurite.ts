/**
 * A private Azurite blob server per test file, stopped by its own process id. The blob entry script
 * is started with node directly: stopping an `npx azurite` wrapper would leave Azurite running.
 *
 * Flags (Azurite 3.35):
 * - `--blobPort 0`: the OS picks a free port and Azurite prints it ("successfully listens on
 *   http://127.0.0.1:<port>"); reading it back avoids the probe-then-bind race of picking one first.
 * - `--skipApiVersionCheck`: Azurite rejects the newer x-ms-version @azure/storage-blob sends.
 * - `--inMemoryPersistence` (+ `--extentMemoryLimit`): nothing on disk, faster. It refuses
 *   `--location`, so the process runs in a temp folder instead (removed on stop).
 * - `--disableTelemetry`, `--silent` (no access log).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Azurite's well-known development account and key: public, documented, not a secret. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  readonly connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly blobEndpoint: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const LISTENING = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/;

export async function startAzurite(): Promise<Azurite> {
  const workDir = await mkdtemp(join(tmpdir(), 'azurite-'));
  try {
    const { child, port } = await launch(workDir);
    return handle(child, port, workDir);
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

function blobEntryScript(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
}

async function launch(workDir: string): Promise<{ child: ChildProcess; port: number }> {
  const args = [
    blobEntryScript(),
    ...['--blobHost', '127.0.0.1', '--blobPort', '0'],
    ...['--inMemoryPersistence', '--extentMemoryLimit', '1024'],
    ...['--skipApiVersionCheck', '--disableTelemetry', '--silent'],
  ];
  const child = spawn(process.execPath, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await listeningPort(child);
    return { child, port };
  } catch (error) {
    await killAndWait(child);
    throw error;
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

function handle(child: ChildProcess, port: number, workDir: string): Azurite {
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  // If the test process dies without stop(), take Azurite with it rather than leave it running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`,
    blobEndpoint,
    port,
    pid: child.pid ?? -1,
    stop() {
      process.off('exit', killOnExit);
      stopped ??= killAndWait(child).finally(() => rm(workDir, { recursive: true, force: true }));
      return stopped;
    },
  };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}
