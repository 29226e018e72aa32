// Stage: what the request names, in workspace and Kubernetes terms.
import { isLongRunning, requestAttributes, type RequestAttributes } from '../../kube/request-attributes.ts';
import { parseRequestPath, type RequestPath } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

const noQuery = new URLSearchParams();

/**
 * Clients ask for the same few paths over and over (a controller's lists and watches, kubectl's
 * discovery): what a path names is kept, frozen, for the next request of the same path, so splitting
 * and checking it (about 1 KB of garbage) happens once. Emptied when full: a client walking
 * ever-new paths costs what it did without the cache, never more memory than the bound.
 */
interface ParsedEntry {
  parsed: RequestPath;
  /** For requests without a query (attributes then depend only on method and path), by method. */
  attrsByMethod: Map<string, RequestAttributes>;
}
// At most this many paths of at most this length, and attributes for this many methods per path
// (a method is any token a client sends): a few MB whatever clients send.
const maxParsedPaths = 4096;
const maxCachedPathLength = 512;
const maxMethodsPerPath = 8;
const parsedPaths = new Map<string, ParsedEntry>();

function entryFor(path: string): ParsedEntry {
  let entry = parsedPaths.get(path);
  if (entry === undefined) {
    // A malformed path throws here and is never kept.
    const parsed = parseRequestPath(path);
    for (const ref of parsed.refs) Object.freeze(ref);
    Object.freeze(parsed.refs);
    entry = { parsed: Object.freeze(parsed), attrsByMethod: new Map() };
    if (path.length <= maxCachedPathLength) {
      if (parsedPaths.size >= maxParsedPaths) parsedPaths.clear();
      parsedPaths.set(path, entry);
    }
  }
  return entry;
}

export function parseWorkspacePath(ctx: RequestContext): void {
  const entry = entryFor(ctx.path);
  const parsed = entry.parsed;
  ctx.parsed = parsed;
  const method = ctx.req.method ?? 'GET';
  const rest = parsed.rest === '' ? '/' : parsed.rest;
  let attrs: RequestAttributes;
  let query = noQuery;
  if (ctx.query.length > 1) {
    query = new URLSearchParams(ctx.query);
    attrs = requestAttributes(method, rest, query);
  } else {
    let known = entry.attrsByMethod.get(method);
    if (known === undefined) {
      known = Object.freeze(requestAttributes(method, rest, noQuery));
      if (entry.attrsByMethod.size < maxMethodsPerPath) entry.attrsByMethod.set(method, known);
    }
    attrs = known;
  }
  ctx.attrs = attrs;
  ctx.longRunning = ctx.upgrade !== undefined || isLongRunning(attrs, query);
}
