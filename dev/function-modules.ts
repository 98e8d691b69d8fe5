/**
 * The app's function declarations as the local hosts find them: each module of src/functions/
 * loaded (as the Functions host loads package.json `main`), each export kept. dev/http-host.ts
 * serves the HTTP declarations among them and dev/queue-host.ts polls for the queue-triggered ones,
 * so a new function file is hosted with no list to update.
 */
import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function loadFunctionExports(): Promise<unknown[]> {
  const folder = new URL('../src/functions/', import.meta.url);
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
