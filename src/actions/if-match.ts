/**
 * The caller's If-Match, read as RFC 9110 says (a list of entity tags, compared strongly) with one
 * refusal of our own: `*` matches any version, which would make the change blind, and a change is
 * never sent blind. A referral's eTag is itself a quoted entity tag (`"0000…"`); a tag sent without
 * its quotes (a flow that stripped them) is read as that tag.
 */
import { BadQueryError } from '../common/errors.js';

const HEADER = 'If-Match';
const MAX_TAGS = 20;
/** RFC 9110 entity-tag (strong): a quoted run of etagc, the visible characters but the double quote. */
const OPAQUE = /^"[\x21\x23-\x7e\x80-\xff]*"$/;

/** The entity tags the header names; a BadQueryError naming If-Match when it names none or `*`. */
export function ifMatchTags(header: string): string[] {
  const tags = header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  if (tags.length === 0) throw new BadQueryError(HEADER, 'If-Match is empty; send the eTag of the version you read');
  if (tags.length > MAX_TAGS) throw new BadQueryError(HEADER, `If-Match names more than ${MAX_TAGS} eTags`);
  return tags.map(readTag);
}

/**
 * Whether `eTag` (the referral's, as Partner Center sent it) is one the header names; read by the
 * header's rule, so a bare eTag from Partner Center still matches the tag a caller sent for it.
 */
export function ifMatchAccepts(tags: readonly string[], eTag: string | null | undefined): eTag is string {
  return typeof eTag === 'string' && tags.includes(eTag.startsWith('"') ? eTag : `"${eTag}"`);
}

function readTag(tag: string): string {
  if (tag === '*') {
    throw new BadQueryError(
      HEADER,
      'If-Match: * would change whatever version is there now; send the eTag of the version you decided on, or no If-Match to use the one read just before the change',
    );
  }
  // A weak tag never matches strongly (RFC 9110 13.1.1): say so rather than answer 412 forever.
  if (tag.startsWith('W/')) throw new BadQueryError(HEADER, 'If-Match takes the eTag itself, not a weak (W/) tag');
  const quoted = tag.startsWith('"') ? tag : `"${tag}"`;
  if (!OPAQUE.test(quoted)) {
    throw new BadQueryError(HEADER, "If-Match is not an eTag: send the referral's eTag as it was read");
  }
  return quoted;
}
