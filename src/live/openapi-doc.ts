/**
 * `npm run openapi:doc`: writes the two connector descriptions kept in the repo (docs/openapi.json,
 * docs/openapi-writes.json); without `--write`, prints the read one. Tests check both are current.
 */
import { writeFile } from 'node:fs/promises';
import { OPENAPI_PATH, renderOpenApi } from './openapi.js';
import { OPENAPI_WRITES_PATH, renderWritesOpenApi } from './openapi-writes.js';

if (process.argv.includes('--write')) {
  await writeFile(OPENAPI_PATH, renderOpenApi(), 'utf8');
  await writeFile(OPENAPI_WRITES_PATH, renderWritesOpenApi(), 'utf8');
} else {
  process.stdout.write(renderOpenApi());
}
