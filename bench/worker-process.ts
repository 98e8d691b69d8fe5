/** Runs a compiled bench worker as a child process with the given environment; returns its JSON line. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export async function runWorker<T>(name: string, env: Record<string, string>): Promise<T> {
  const script = new URL(`./workers/${name}.js`, import.meta.url).pathname;
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
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
