/**
 * Turns whatever a storage call threw into a StorageError whose message and cause are safe to log.
 * Azure SDK RestErrors carry the request (headers, the URL with any SAS in its query) and their
 * message can quote the URL, so the cause kept is a plain copy: name, code, status and a scrubbed
 * message, with query strings cut from every URL and key/SAS-shaped fields masked.
 */
import { StorageError } from '../../common/errors.js';
import { redact } from '../../common/redact.js';

/** Fields a storage failure may have: RestError (`statusCode`, `code`) and Node's fs errors (`code`). */
interface ErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly statusCode?: unknown;
}

export function storageError(operation: string, path: string, target: string, error: unknown): StorageError {
  const cause = scrubbedCopy(error);
  const status = statusOf(error);
  const reason = `${cause.message}${status === undefined ? '' : ` (HTTP ${status})`}`;
  return new StorageError(
    `${operation} '${path}' on ${target} failed: ${reason}`,
    { operation, path, status },
    { cause },
  );
}

/** HTTP status of an SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as ErrorShape | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The error's code (`BlobNotFound`, `ENOENT`, …), if it has one. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as ErrorShape | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A container or queue client: what createIfAbsent needs of it. */
interface Creatable {
  createIfNotExists(): Promise<unknown>;
  exists(): Promise<boolean>;
}

/**
 * Creates a container or queue unless it exists. An identity with data-plane rights only (a role on
 * the resource, not the account) may be refused the create with 403; one that exists is enough then.
 */
export async function createIfAbsent(resource: Creatable): Promise<void> {
  try {
    await resource.createIfNotExists();
  } catch (error) {
    if (statusOf(error) === 403 && codeOf(error) !== 'AuthenticationFailed' && (await resource.exists())) return;
    throw error;
  }
}

/** Removes the query string (SAS tokens live there) from every URL in a text, then masks secrets. */
export function scrubText(text: string): string {
  const withoutQueries = text.replace(/\b(https?:\/\/[^\s?#"'<>]*)\?[^\s"'<>]*/gi, '$1');
  return redact(withoutQueries).replace(/\b(AccountKey|SharedAccessSignature|sig)=[^;&\s"']*/gi, '$1=***');
}

function scrubbedCopy(error: unknown): Error {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  const copy = new Error(scrubText(firstLines(message)));
  copy.name = typeof shape.name === 'string' ? shape.name : 'Error';
  const code = codeOf(error);
  if (code !== undefined) Object.assign(copy, { code });
  const status = statusOf(error);
  if (status !== undefined) Object.assign(copy, { statusCode: status });
  return copy;
}

/** Storage service messages append RequestId/Time lines and sometimes the XML body; keep the gist. */
function firstLines(message: string): string {
  return message.split('\n').slice(0, 2).join(' ').slice(0, 500);
}

/** Re-throws a stream's failure (a dropped connection, a deleted file) as the error `wrap` makes. */
export async function* guardStream(
  stream: AsyncIterable<unknown>,
  wrap: (error: unknown) => Error,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
  } catch (error) {
    throw wrap(error);
  }
}
