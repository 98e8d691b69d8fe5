/**
 * Runs a compiled bench worker as a child process with the given environment; returns its JSON line.
 * Workers start with the process tuning the Function App gets (src/common/process-tuning.ts), so
 * the figures are the deployment's.
 * `BENCH_WORKER_NODE_ARGS` adds node flags to every worker, e.g. to profile the measured job itself:
 * `BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=.data/profiles" npm run bench -- --only full-sync`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PROCESS_TUNING } from '../src/common/process-tuning.js';

export async function runWorker<T>(name: string, env: Record<string, string>): Promise<T> {
  const script = new URL(`./workers/${name}.js`, import.meta.url).pathname;
  const nodeArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, ...PROCESS_TUNING, ...env, NODE_OPTIONS: nodeOptions(env) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench worker ${name} exited ${code}`);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}

/** The tuning's NODE_OPTIONS after the developer's own, if any (later flags win in node). */
function nodeOptions(env: Record<string, string>): string {
  return [process.env.NODE_OPTIONS, PROCESS_TUNING.NODE_OPTIONS, env.NODE_OPTIONS].filter(Boolean).join(' ');
}
