// Turns a request path into what it addresses: which logical cluster (or APIExport virtual workspace), and
// then a discovery document or a resource, the way kube-apiserver's RequestInfoFactory reads paths.

import { badRequest } from './errors.ts';

export interface Scope {
  /** Logical cluster name or path as written; `*` for wildcard list/watch. */
  cluster: string;
  /** Set when the request came through `/services/apiexport/<cluster>/<export>/clusters/<c>/…`. */
  view?: { exportCluster: string; exportName: string };
  /** Prefix that addresses this scope (`/clusters/root`), for URLs the shard hands out. */
  prefix: string;
}

export type Target =
  /** A non-resource path (`/version`, `/openapi/v3/…`) relative to its scope. */
  | { kind: 'plain'; scope: Scope; path: string }
  | { kind: 'discovery'; scope: Scope; level: 'api' | 'apis' | 'group' | 'version'; group: string; version: string }
  | {
      kind: 'resource';
      scope: Scope;
      group: string;
      version: string;
      resource: string;
      namespace: string;
      name: string;
      subresource: string;
      watchPath: boolean;
    };

const namespaceSubresources = new Set(['status', 'finalize']);

/**
 * One path segment, percent-decoded. An escape that is not `%XX`, or bytes that are not UTF-8 (overlong
 * forms such as `%c0%ae` included), are the client's error: a 400, never a 500 and never guessed at.
 */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`invalid path segment ${JSON.stringify(segment)}: malformed percent-encoding or invalid UTF-8`);
  }
}

export function parseTarget(pathname: string, mode: 'kcp' | 'kubernetes'): Target | undefined {
  const segments = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeSegment);
  const root: Scope = { cluster: 'root', prefix: '' };
  if (mode === 'kubernetes') return parseApiPath(segments, root) ?? plain(root, segments);

  if (segments[0] === 'clusters' && segments.length >= 2) {
    const cluster = segments[1] ?? '';
    const scope = { cluster, prefix: `/clusters/${cluster}` };
    return parseApiPath(segments.slice(2), scope) ?? plain(scope, segments.slice(2));
  }
  if (segments[0] === 'services' && segments[1] === 'apiexport' && segments[4] === 'clusters' && segments.length >= 6) {
    const [exportCluster = '', exportName = '', , cluster = ''] = segments.slice(2);
    const prefix = `/services/apiexport/${exportCluster}/${exportName}/clusters/${cluster}`;
    return parseApiPath(segments.slice(6), { cluster, prefix, view: { exportCluster, exportName } });
  }
  // Paths without a cluster address the root workspace, so a bare shard URL behaves like `/clusters/root`.
  return parseApiPath(segments, root) ?? plain(root, segments);
}

function plain(scope: Scope, segments: string[]): Target {
  return { kind: 'plain', scope, path: `/${segments.join('/')}` };
}

function parseApiPath(segments: string[], scope: Scope): Target | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { kind: 'discovery', scope, level: 'api', group: '', version: '' };
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    if (segments.length === 1) return { kind: 'discovery', scope, level: 'apis', group: '', version: '' };
    group = segments[1] ?? '';
    if (segments.length === 2) return { kind: 'discovery', scope, level: 'group', group, version: '' };
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  if (rest.length === 0) return { kind: 'discovery', scope, level: 'version', group, version };

  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] ?? '';
    if (rest.length > 2 && !namespaceSubresources.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  const [resource = '', name = '', subresource = ''] = rest;
  if (resource === 'namespaces') namespace = '';
  return { kind: 'resource', scope, group, version, resource, namespace, name, subresource, watchPath };
}
