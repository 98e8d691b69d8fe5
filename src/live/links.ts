/** Absolute URLs back to the function a request came to: a nextLink, a trigger's Location. */
import type { HttpRequest } from '@azure/functions';
import { KEY_PARAM } from './params.js';

/** Same path with only `param`=`token`, and the function key if the caller put it in the URL. */
export function linkBack(request: HttpRequest, param: string, token: string): string {
  const incoming = new URL(request.url);
  const next = new URL(incoming.pathname, incoming.origin);
  next.searchParams.set(param, token);
  const key = request.query.get(KEY_PARAM);
  if (key !== null) next.searchParams.set(KEY_PARAM, key);
  return next.href;
}
