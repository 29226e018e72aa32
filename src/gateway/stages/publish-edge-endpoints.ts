// Stage: a request for APIExportEndpointSlices or APIExports gets its answer's virtual-workspace URLs
// rewritten to the edge's, one per shard (edge-endpoints.ts): the forwarder applies what this sets.
import type { RoutingTable } from '../../routing/types.ts';
import type { RequestContext } from '../context.ts';
import { edgeOrigin, edgeUrlMapper, urlListOf } from '../edge-endpoints.ts';

export function publishEdgeEndpoints(routing: RoutingTable) {
  return function publishEdgeEndpointUrls(ctx: RequestContext): void | Promise<void> {
    const attrs = ctx.attrs;
    if (attrs === undefined || !attrs.isResourceRequest || ctx.upgrade !== undefined || ctx.req.method === 'HEAD') return;
    const field = urlListOf(attrs.apiGroup, attrs.resource);
    if (field === undefined || (attrs.subresource !== '' && attrs.subresource !== 'status')) return;
    const headers = ctx.req.headers;
    const host = (headers[':authority'] as string | undefined) ?? headers.host;
    return routing.listShards().then((shards) => {
      ctx.edgeEndpoints = { field, map: edgeUrlMapper(shards, edgeOrigin(host)) };
    });
  };
}
