/**
 * Content types by extension. Readers go by extension (Synapse, Spark and DuckDB pick the format
 * and the gzip codec from `.parquet` / `.ndjson.gz`), so these matter for browsers, Storage
 * Explorer and HTTP clients. A `.gz` archive is `application/gzip` WITHOUT `Content-Encoding: gzip`:
 * with that header, HTTP clients (and azcopy, browsers) transparently decompress on download and the
 * bytes on disk no longer match the `.gz` name or the manifest's sha256.
 */

const BY_EXTENSION: readonly (readonly [string, string])[] = [
  ['.parquet', 'application/vnd.apache.parquet'],
  ['.ndjson.gz', 'application/gzip'],
  ['.ndjson', 'application/x-ndjson'],
  ['.json', 'application/json'],
  ['.gz', 'application/gzip'],
  ['.csv', 'text/csv; charset=utf-8'],
];

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function contentTypeFor(path: string): string {
  const lower = path.toLowerCase();
  for (const [extension, type] of BY_EXTENSION) if (lower.endsWith(extension)) return type;
  return DEFAULT_CONTENT_TYPE;
}
