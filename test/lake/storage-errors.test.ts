import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/common/errors.js';
import { scrubText, storageError } from '../../src/lake/storage/storage-errors.js';

describe('storage errors', () => {
  const sas = 'sv=2024-11-04&ss=b&srt=co&sp=rwdlac&se=2026-12-01T00:00:00Z&sig=AbCdEf%2Bsecret%3D';

  it('cut query strings (SAS) from URLs and mask keys in texts', () => {
    const text = `PUT https://acct.blob.core.windows.net/lake/x.json?${sas} failed; AccountKey=c2VjcmV0a2V5;`;
    const scrubbed = scrubText(text);
    expect(scrubbed).toBe('PUT https://acct.blob.core.windows.net/lake/x.json failed; AccountKey=***;');
    expect(scrubText('SharedAccessSignature=sv=1&sig=zzz;BlobEndpoint=x')).not.toMatch(/zzz/);
  });

  it('wrap an SDK error in a StorageError whose message and cause carry no secret', () => {
    const sdkError = Object.assign(
      new Error(
        `Server failed to authenticate the request.\nRequestId:1\nurl: https://acct.blob.core.windows.net/lake/x?${sas}`,
      ),
      {
        name: 'RestError',
        code: 'AuthenticationFailed',
        statusCode: 403,
        request: {
          headers: { authorization: 'SharedKey acct:c2lnbmF0dXJl' },
          url: `https://acct.blob.core.windows.net/lake/x?${sas}`,
        },
      },
    );
    const error = storageError('write', 'x.json', 'blob account acct container lake', sdkError);
    expect(error).toBeInstanceOf(StorageError);
    expect(error.code).toBe('storage_failed');
    expect(error.details).toEqual({ operation: 'write', path: 'x.json', status: 403 });
    expect(error.message).toBe(
      "write 'x.json' on blob account acct container lake failed: Server failed to authenticate the request. RequestId:1 (HTTP 403)",
    );
    const cause = error.cause as Error & Record<string, unknown>;
    expect(cause).not.toBe(sdkError);
    expect(cause).toMatchObject({ name: 'RestError', code: 'AuthenticationFailed', statusCode: 403 });
    expect(cause.request).toBeUndefined();
    expect(JSON.stringify({ ...cause, message: error.message, causeMessage: cause.message })).not.toMatch(
      /sig=|SharedKey|c2lnbmF0dXJl/,
    );
  });

  it('keep fs error codes', () => {
    const fsError = Object.assign(new Error("EACCES: permission denied, open '/lake/x.json'"), { code: 'EACCES' });
    const error = storageError('write', 'x.json', 'folder /lake', fsError);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EACCES');
    expect(error.details.status).toBeUndefined();
  });
});
