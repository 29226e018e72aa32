// Legacy discovery's roots (`/api`: APIVersions, `/apis`: APIGroupList) carry serverAddressByClientCIDRs,
// the address a shard believes clients reach it at. A front door must not hand that out, so these two
// small JSON documents, and only they, are read whole and passed on without it. Aggregated discovery
// (`;g=apidiscovery.k8s.io`) has no such field and, like every other response, streams untouched.

/** Bigger than any real APIVersions/APIGroupList; a shard sending more is answered with a 502. */
export const maxDiscoveryRootBytes = 4 << 20;

/** GET only: a HEAD answer has no body to leak from, and its Content-Length must stay the shard's. */
export function isDiscoveryRoot(method: string | undefined, rest: string): boolean {
  return method === 'GET' && (rest === '/api' || rest === '/api/' || rest === '/apis' || rest === '/apis/');
}

/** Whether the shard's answer is a legacy discovery document in plain, uncompressed JSON. */
export function isLegacyDiscoveryJSON(statusCode: number, headers: Record<string, string | string[] | undefined>): boolean {
  if (statusCode !== 200) return false;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && String(encoding).trim().toLowerCase() !== 'identity') return false;
  const [mediaType = '', ...parameters] = String(headers['content-type'] ?? '')
    .split(';')
    .map((p) => p.trim().toLowerCase());
  return mediaType === 'application/json' && !parameters.some((p) => p.startsWith('g=') || p.startsWith('as='));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The document without shard addresses: APIVersions keeps the (required) field, empty; each group of
 * an APIGroupList loses it. A body that does not parse as JSON is returned as it came.
 */
export function withoutShardAddresses(body: Buffer): Buffer {
  let doc: Json;
  try {
    doc = JSON.parse(body.toString('utf8')) as Json;
  } catch {
    return body;
  }
  if (!isObject(doc)) return body;
  if ('serverAddressByClientCIDRs' in doc) doc['serverAddressByClientCIDRs'] = [];
  const groups = doc['groups'];
  if (Array.isArray(groups)) for (const group of groups) if (isObject(group)) delete group['serverAddressByClientCIDRs'];
  return Buffer.from(JSON.stringify(doc), 'utf8');
}
