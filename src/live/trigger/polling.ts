/** The trigger's pace, shared by the handler and the OpenAPI description. */
import type { FeedLimits } from './feed.js';

/** Seconds until the next poll at the head of the feed (Retry-After). */
export const POLL_SECONDS = 60;
/** Seconds until the next poll while a backlog drains. */
export const BACKLOG_POLL_SECONDS = 1;

/** One poll's bounds: a short answer for the flow, a short read for the lake. */
export const FEED_LIMITS: FeedLimits = { changes: 100, scanned: 50_000, commits: 50 };
