// APIExportEndpointSlices (and the deprecated APIExport.status.virtualWorkspaces) list one URL per shard:
// the shard's own address, which a client outside the cluster cannot reach (kcp #3830). Each shard's
// APIExport virtual workspace serves only the consumers on that shard, so one edge URL for all would
// silently lose every consumer not on the export owner's shard. Read through the edge, each URL becomes
// `<edge>/shards/<shard>/services/apiexport/…`, which the edge routes to that shard (request-path.ts).
// An URL of no known shard is dropped: the client never sees a shard-internal address.
import type { Shard } from '../routing/types.ts';
import { shardPrefix } from '../workspaces/request-path.ts';

/** The resources whose status lists virtual-workspace URLs, and the list that holds them. */
const urlLists: Readonly<Record<string, string>> = { apiexportendpointslices: 'endpoints', apiexports: 'virtualWorkspaces' };

export const edgeEndpointsGroup = 'apis.kcp.io';

/** A list of every APIExport of a busy workspace fits many times over; a shard sending more gets a 502. */
export const maxRewrittenBodyBytes = 64 << 20;

/** The status field listing URLs for a resource of apis.kcp.io, or undefined when it lists none. */
export function urlListOf(apiGroup: string, resource: string): string | undefined {
  return apiGroup === edgeEndpointsGroup ? urlLists[resource] : undefined;
}

// A host as a client may name the edge: a DNS name or IPv4 address, or an IPv6 literal, and a port.
const hostHeader = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** `https://<host>` for the Host (or :authority) the client reached the edge by; undefined when unusable. */
export function edgeOrigin(host: string | undefined): string | undefined {
  return host !== undefined && hostHeader.test(host) ? `https://${host}` : undefined;
}

/** Maps a shard's virtual-workspace URL to the edge's; undefined for an URL of no known shard. */
export function edgeUrlMapper(shards: readonly Shard[], origin: string | undefined): (url: string) => string | undefined {
  const bases = shards.flatMap((shard) => {
    try {
      const url = new URL(shard.url);
      return [{ name: shard.name, origin: url.origin, path: url.pathname.replace(/\/+$/, '') }];
    } catch {
      return [];
    }
  });
  return (raw) => {
    if (origin === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return undefined;
    }
    for (const base of bases) {
      if (url.origin !== base.origin || !url.pathname.startsWith(`${base.path}/services/`)) continue;
      return `${origin}${shardPrefix}${base.name}${url.pathname.slice(base.path.length).replace(/\/+$/, '')}`;
    }
    return undefined;
  };
}

/** What a response of such a resource needs: which status list holds URLs, and how each maps. */
export interface EndpointRewrite {
  field: string;
  map: (url: string) => string | undefined;
}

/** Plain, uncompressed JSON (a watch's `;stream=watch` and a Table's `;as=Table` included): what can be rewritten. */
export function isRewritableJSON(headers: Record<string, string | string[] | undefined>): boolean {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && String(encoding).trim().toLowerCase() !== 'identity') return false;
  return (
    String(headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase() === 'application/json'
  );
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Rewrites, in place, the URL list `field` of every object a response carries: the object itself, the
 * items of a list, the objects of a Table's rows, and the object of a watch event.
 */
export function rewriteDocument(doc: unknown, field: string, map: (url: string) => string | undefined): void {
  if (!isObject(doc)) return;
  if (typeof doc['type'] === 'string' && isObject(doc['object'])) return rewriteDocument(doc['object'], field, map);
  if (Array.isArray(doc['items'])) for (const item of doc['items']) rewriteDocument(item, field, map);
  if (Array.isArray(doc['rows'])) for (const row of doc['rows']) if (isObject(row)) rewriteDocument(row['object'], field, map);
  const status = doc['status'];
  if (!isObject(status) || !Array.isArray(status[field])) return;
  status[field] = status[field].flatMap((entry: unknown) => {
    if (!isObject(entry) || typeof entry['url'] !== 'string') return [];
    const url = map(entry['url']);
    return url === undefined ? [] : [{ ...entry, url }];
  });
}

/** The whole body of a get, list or write answer, rewritten; a body that is not JSON yields undefined. */
export function rewriteBody(body: Buffer, field: string, map: (url: string) => string | undefined): Buffer | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  rewriteDocument(doc, field, map);
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/**
 * A watch stream, one JSON event per line, rewritten line by line as it flows: only a partial last line
 * is held back. A line that is not JSON is dropped rather than passed on unread.
 */
export class WatchLineRewriter {
  readonly #field: string;
  readonly #map: (url: string) => string | undefined;
  #partial: Buffer[] = [];

  constructor(field: string, map: (url: string) => string | undefined) {
    this.#field = field;
    this.#map = map;
  }

  /** The complete events `chunk` finishes, rewritten; '' when it finishes none. */
  push(chunk: Buffer): string {
    let out = '';
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#partial.push(chunk.subarray(start, nl));
      out += this.#line(Buffer.concat(this.#partial));
      this.#partial = [];
      start = nl + 1;
    }
    if (start < chunk.length) this.#partial.push(chunk.subarray(start));
    return out;
  }

  /** What is left at the end of the stream: a last event sent without its newline. */
  end(): string {
    const rest = Buffer.concat(this.#partial);
    this.#partial = [];
    return rest.length === 0 ? '' : this.#line(rest);
  }

  #line(line: Buffer): string {
    if (line.toString('latin1').trim() === '') return '';
    const body = rewriteBody(line, this.#field, this.#map);
    return body === undefined ? '' : `${body.toString('utf8')}\n`;
  }
}
