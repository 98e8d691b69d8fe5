/**
 * nextLink hygiene. The docs' own example answers `http://…/v1.0/referrals?$skiptoken=…`: wrong
 * scheme and missing `/engagements`. A nextLink is also a full URL the server chose, and following it
 * blindly would send the bearer token wherever it points. So every link is repaired the documented
 * ways and then pinned: same origin as the configured API, same list path, or it is refused.
 */
import { UpstreamError } from '../common/errors.js';
import { safeUrl } from '../common/redact.js';

export const LIST_PATH = '/v1.0/engagements/referrals';
/** The path the docs' example nextLink uses. */
const SEED_EXAMPLE_PATH = '/v1.0/referrals';

export function resolveNextLink(link: string, apiBase: URL): URL {
  let url: URL;
  try {
    url = new URL(link, apiBase);
  } catch (error) {
    throw new UpstreamError('Partner Center sent an @odata.nextLink that is not a URL', {}, { cause: error });
  }
  if (url.protocol === 'http:' && apiBase.protocol === 'https:') {
    url.protocol = 'https:';
    // http's default port does not carry over to https: a link without a port means the API's own.
    if (url.port === '80') url.port = '';
  }
  if (url.origin !== apiBase.origin) {
    throw new UpstreamError(
      `Partner Center sent an @odata.nextLink to another origin (${url.origin}, expected ${apiBase.origin}); ` +
        'it was not followed and no credentials were sent',
      { url: safeUrl(url) },
    );
  }
  if (url.pathname === SEED_EXAMPLE_PATH) url.pathname = LIST_PATH;
  if (url.pathname !== LIST_PATH) {
    throw new UpstreamError(`Partner Center sent an @odata.nextLink to an unexpected path (${url.pathname})`, {
      url: safeUrl(url),
    });
  }
  return url;
}
