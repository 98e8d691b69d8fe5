/**
 * The app's function declarations as the host finds them: each module of src/functions/ loaded (as
 * the Functions host loads package.json `main`), each export kept. The local hosts serve them
 * (dev/http-host.ts the HTTP ones, dev/queue-host.ts the queue-triggered ones) and `referrals-lake
 * keys` reads their key groups from them, so a new function file needs no list updated anywhere.
 * Importing a function file registers it with @azure/functions, which outside the host switches to
 * test mode: load them from a command's action, never at the CLI's start.
 */
import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpFunction, QueueFunction } from '../common/azure-functions.js';

export async function loadFunctionExports(): Promise<unknown[]> {
  const folder = new URL('../functions/', import.meta.url);
  // `.js` when built; `.ts` when the tests run the sources.
  const extension = extname(fileURLToPath(import.meta.url));
  const files = (await readdir(folder)).filter((file) => file.endsWith(extension) && !file.endsWith('.d.ts')).sort();
  const found: unknown[] = [];
  for (const file of files) {
    const module: Record<string, unknown> = await import(new URL(file, folder).href);
    found.push(...Object.values(module));
  }
  return found;
}

/** Every HTTP function the app declares. */
export async function loadHttpFunctions(): Promise<HttpFunction[]> {
  return (await loadFunctionExports()).filter(isHttpFunction);
}

/** An export of a function file that declares an HTTP function. */
export function isHttpFunction(value: unknown): value is HttpFunction {
  const fn = value as Partial<HttpFunction> | null;
  return (
    typeof fn === 'object' &&
    fn !== null &&
    typeof fn.name === 'string' &&
    typeof fn.route === 'string' &&
    typeof fn.handler === 'function'
  );
}

/** Every Storage-queue-triggered function the app declares. */
export async function loadQueueFunctions(): Promise<QueueFunction[]> {
  return (await loadFunctionExports()).filter(isQueueFunction);
}

/** An export of a function file that declares a Storage-queue-triggered function. */
export function isQueueFunction(value: unknown): value is QueueFunction {
  const fn = value as Partial<QueueFunction> | null;
  return (
    typeof fn === 'object' &&
    fn !== null &&
    typeof fn.name === 'string' &&
    typeof fn.queueName === 'string' &&
    typeof fn.connection === 'string' &&
    typeof fn.handler === 'function'
  );
}
