// What a request does in Kubernetes terms (verb, resource, namespace, name), read from method, path
// and query the way kube-apiserver's RequestInfoFactory reads them. Metrics, rate policy and the
// watch/stream decision all key on this.
import { queryBool } from './query-bool.ts';

export interface RequestAttributes {
  isResourceRequest: boolean;
  /** get|list|watch|create|update|patch|delete|deletecollection, or the lower-case method for non-resource paths. */
  verb: string;
  /** The path after /clusters/<workspace> (or the whole path for non-workspace requests), without query. */
  path: string;
  /** '' for the core group. */
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** A list that asked for a page (`?limit=`): cheaper to serve than an unbounded list. */
  hasLimit: boolean;
}

const namespaceSubresources = new Set(['status', 'finalize']);
const streamingSubresources = new Set(['exec', 'attach', 'portforward', 'proxy']);
const methodVerbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch' };

function nonResource(method: string, path: string): RequestAttributes {
  return { isResourceRequest: false, verb: method.toLowerCase(), path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', hasLimit: false };
}

export function requestAttributes(method: string, path: string, query: URLSearchParams): RequestAttributes {
  const parts = path.split('/').filter((p) => p !== '');
  let apiGroup: string;
  let apiVersion: string;
  // Where the rest (after group and version) starts in parts: an index, not a copy of the tail.
  let at: number;
  if (parts[0] === 'api' && parts.length >= 3) {
    apiGroup = '';
    apiVersion = parts[1]!;
    at = 2;
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiGroup = parts[1]!;
    apiVersion = parts[2]!;
    at = 3;
  } else {
    return nonResource(method, path);
  }

  let verb = methodVerbs[method] ?? '';
  if (method === 'GET' || method === 'HEAD') verb = 'get';
  else if (method === 'DELETE') verb = 'delete';
  if (verb === '') return nonResource(method, path);

  // Deprecated /watch/ prefix: still served by kube-apiserver, still used by old clients.
  if (parts[at] === 'watch') {
    verb = 'watch';
    at += 1;
  }

  let namespace = '';
  if (parts[at] === 'namespaces') {
    if (parts.length - at > 1) {
      namespace = parts[at + 1]!;
      if (parts.length - at > 2 && !namespaceSubresources.has(parts[at + 2]!)) at += 2;
    }
  }
  const resource = parts[at] ?? '';
  const name = parts[at + 1] ?? '';
  const subresource = parts[at + 2] ?? '';
  if (resource === '') return nonResource(method, path);

  if (name === '') {
    if (verb === 'get') verb = queryBool(query, 'watch') ? 'watch' : 'list';
    else if (verb === 'delete') verb = 'deletecollection';
  } else if (verb === 'get' && queryBool(query, 'watch')) {
    // A watch on a single object arrives as a field selector on the collection; this form is its legacy twin.
    verb = 'watch';
  }
  const limit = query.get('limit');
  return {
    isResourceRequest: true,
    verb,
    path,
    apiGroup,
    apiVersion,
    resource,
    subresource,
    namespace,
    name,
    hasLimit: limit !== null && Number(limit) > 0,
  };
}

/**
 * Requests whose response is a stream that may stay open for hours: the gateway must not buffer them
 * or apply an idle timeout.
 */
export function isLongRunning(attrs: RequestAttributes, query: URLSearchParams): boolean {
  if (attrs.verb === 'watch') return true;
  if (attrs.subresource === 'log' && queryBool(query, 'follow')) return true;
  return streamingSubresources.has(attrs.subresource);
}
