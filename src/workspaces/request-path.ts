// Parses the path of every request the gateway forwards, and is the only place that decides a path is
// malformed (400) or names nothing the gateway serves (404). Later stages trust what it returns.
//
//   /clusters/<workspace>/<rest>                                   workspace = a:b:c, root: optional
//   /services/apiexport/<owner>/<export>/clusters/<target|*>/<rest>  routed by target, or by owner for *
//   /services/<vw>/<…>/clusters/<target>/<rest>                     other virtual workspaces, by target
//   /shards/<shard>/services/apiexport/<owner>/<export>/clusters/…   one shard's APIExport virtual workspace
//
// The last is the edge's own: each shard's APIExport virtual workspace serves only the consumers on that
// shard, so the endpoint slices read through the edge name one such URL per shard (edge-endpoints.ts).
import { GatewayError } from '../kube/gateway-error.ts';

/** A workspace as the URL names it: a path (root:org:ws, root: optional) or a logical-cluster name. */
export interface WorkspaceRef {
  /** What the routing table is asked first: the root-prefixed path, or the bare logical-cluster name. */
  key: string;
  /** A bare single name is a logical-cluster name or an org directly under root; this is the second guess. */
  fallbackKey: string | undefined;
}

export interface RequestPath {
  /** Upstream path up to the first workspace, e.g. '/clusters/' or '/services/apiexport/'. */
  head: string;
  /** The workspaces named by the path, in order; each is rewritten to its canonical logical cluster. */
  refs: WorkspaceRef[];
  /** Text between refs[0] and the second position for service URLs, e.g. '/my-export/clusters/'. */
  between: string;
  /** True for `/clusters/*` inside an APIExport URL: routed by the owner, forwarded as '*'. */
  wildcard: boolean;
  /** Index into refs of the workspace whose shard serves the request. */
  routeBy: number;
  /** Path after the workspace segment, '' or starting with '/', without query. */
  rest: string;
  /** The shard the path names (`/shards/<shard>/…`): it serves the request, whichever shard holds the workspaces. */
  shard?: string;
}

/** Prefix of a path that names the shard to serve it; only an APIExport virtual workspace follows it. */
export const shardPrefix = '/shards/';

const maxPathLength = 4096;
const maxWorkspacePathLength = 255;
const maxLabelLength = 63;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
// Encoded '.', '/' and '\' would let a path mean one thing to us and another to the shard.
const dangerousEscape = /%(2e|2f|5c|00)/i;
// A '%' that does not start a two-hex-digit escape (`%u002e`, `%zz`, a trailing `%`) is read differently
// by different decoders: some pass it through, IIS-style ones decode `%uXXXX`.
const malformedEscape = /%(?![0-9a-f]{2})/i;

const notFound = (): GatewayError => new GatewayError('NOT_FOUND', 'the server could not find the requested resource');
const badPath = (why: string): GatewayError => new GatewayError('BAD_PATH', why);

/** Parses a request path (no query string). Throws GatewayError BAD_PATH or NOT_FOUND. */
export function parseRequestPath(path: string): RequestPath {
  if (path.length > maxPathLength) throw badPath('request path too long');
  if (path.charCodeAt(0) !== 47 /* / */) throw badPath('request path must start with /');
  if (path.includes('\\') || dangerousEscape.test(path)) throw badPath('request path contains an encoded or reserved separator');
  if (path.includes('%')) checkPercentEncoding(path);
  const segments = path.split('/');
  // segments[0] is '' (leading slash). Empty segments are '//' unless it is a single trailing slash.
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '') {
      if (i === segments.length - 1) continue;
      throw badPath('request path contains an empty segment');
    }
    if (segment === '.' || segment === '..') throw badPath('request path contains a dot segment');
  }
  if (segments[1] === 'clusters') return parseClusters(path, segments);
  if (segments[1] === 'services') return parseServices(path, segments);
  if (segments[1] === 'shards') return parseShardQualified(path, segments);
  throw notFound();
}

/** `/shards/<shard>/services/apiexport/…`: kcp's own virtual-workspace path behind the name of a shard. */
function parseShardQualified(path: string, segments: string[]): RequestPath {
  const shard = segments[2];
  if (shard === undefined || shard === '' || segments[3] !== 'services' || segments[4] !== 'apiexport') throw notFound();
  if (shard.length > maxLabelLength || !dns1123Label.test(shard)) throw badPath(`invalid shard name "${shard}"`);
  const inner = path.slice(shardPrefix.length + shard.length);
  return { ...parseServices(inner, inner.split('/')), shard };
}

/**
 * Escapes must be `%XX` and decode to well-formed UTF-8: an overlong form such as `%c0%ae` is '.' to a
 * lenient decoder and nothing to a strict one, so it is refused rather than forwarded.
 */
function checkPercentEncoding(path: string): void {
  if (malformedEscape.test(path)) throw badPath('request path contains a malformed percent-encoding');
  try {
    decodeURIComponent(path);
  } catch {
    throw badPath('request path contains a percent-encoding that is not valid UTF-8');
  }
}

/** The path from segment `index` on, with its leading '/': a slice of the path, not a re-join of segments. */
function restFrom(path: string, segments: string[], index: number): string {
  if (index >= segments.length) return '';
  let at = 0;
  for (let i = 0; i < index; i++) at += segments[i]!.length + 1;
  return path.slice(at - 1);
}

function parseClusters(path: string, segments: string[]): RequestPath {
  const name = segments[2];
  if (name === undefined || name === '') throw notFound();
  return { head: '/clusters/', refs: [parseWorkspaceRef(name)], between: '', wildcard: false, routeBy: 0, rest: restFrom(path, segments, 3) };
}

function parseServices(path: string, segments: string[]): RequestPath {
  const vw = segments[2];
  if (vw === undefined || vw === '') throw notFound();
  if (vw === 'apiexport') {
    // /services/apiexport/<owner>/<export>/clusters/<target>/<rest>
    const owner = segments[3];
    const exportName = segments[4];
    if (owner === undefined || exportName === undefined || segments[5] !== 'clusters' || segments[6] === undefined || segments[6] === '') {
      throw notFound();
    }
    if (exportName.length > 253 || !dns1123Subdomain.test(exportName)) throw badPath(`invalid APIExport name "${exportName}"`);
    // client-go escapes the `*` of a server URL like …/clusters/* (Go's path encoding does), so kubectl
    // pointed at an export's virtual workspace sends %2A; kcp's front-proxy sees it decoded.
    const target = segments[6] === '%2A' || segments[6] === '%2a' ? '*' : segments[6];
    const rest = restFrom(path, segments, 7);
    const ownerRef = parseWorkspaceRef(owner);
    const between = `/${exportName}/clusters/`;
    if (target === '*') return { head: '/services/apiexport/', refs: [ownerRef], between, wildcard: true, routeBy: 0, rest };
    return { head: '/services/apiexport/', refs: [ownerRef, parseWorkspaceRef(target)], between, wildcard: false, routeBy: 1, rest };
  }
  // Other virtual workspaces: everything up to the first /clusters/ is the virtual workspace's own prefix.
  const at = segments.indexOf('clusters', 3);
  const target = at === -1 ? undefined : segments[at + 1];
  if (target === undefined || target === '') throw notFound();
  if (target === '*') throw notFound();
  return { head: segments.slice(0, at + 1).join('/') + '/', refs: [parseWorkspaceRef(target)], between: '', wildcard: false, routeBy: 0, rest: restFrom(path, segments, at + 2) };
}

/** Validates a workspace path or logical-cluster name as it appears in a URL. */
export function parseWorkspaceRef(name: string): WorkspaceRef {
  if (name.length > maxWorkspacePathLength) throw badPath('workspace path too long');
  if (name === '*') throw badPath('a wildcard workspace is only allowed inside an APIExport virtual workspace URL');
  const labels = name.split(':');
  for (const label of labels) {
    if (label.length === 0 || label.length > maxLabelLength || !dns1123Label.test(label)) {
      throw badPath(`invalid workspace path "${name}": each segment must be a lower-case DNS-1123 label`);
    }
  }
  if (labels[0] === 'root') return { key: name, fallbackKey: undefined };
  if (labels.length === 1) return { key: name, fallbackKey: `root:${name}` };
  return { key: `root:${name}`, fallbackKey: undefined };
}

/** The organisation of a canonical workspace path: the first segment after root. */
export function orgOf(canonicalPath: string): string | undefined {
  if (!canonicalPath.startsWith('root:')) return undefined;
  const end = canonicalPath.indexOf(':', 5);
  return end === -1 ? canonicalPath.slice(5) : canonicalPath.slice(5, end);
}

/** The upstream path with each workspace replaced by its canonical logical-cluster name. */
export function upstreamPath(parsed: RequestPath, clusters: readonly string[]): string {
  if (parsed.refs.length === 1 && !parsed.wildcard) return parsed.head + clusters[0]! + parsed.between + parsed.rest;
  return parsed.head + clusters[0]! + parsed.between + (parsed.wildcard ? '*' : clusters[1]!) + parsed.rest;
}
