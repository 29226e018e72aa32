// The gateway's own endpoints on the public port: liveness and readiness, open to anyone (kubelet
// probes them). /metrics is on the admin listener only (src/admin/): no anonymous scrapes. Everything
// else is a workspace request for the stages after this one.
import type { RoutingTable } from '../../routing/types.ts';
import type { RequestContext } from '../context.ts';
import type { Stage } from '../pipeline.ts';
import { respond } from '../respond.ts';

/** What the admin listener's /metrics serves: a prom-client Registry is one; a worker process serves its whole group's. */
export interface MetricsExposition {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface EndpointDeps {
  routing: RoutingTable;
  isDraining(): boolean;
}

const plain = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache, private' };

export function serveGatewayEndpoints(deps: EndpointDeps): Stage {
  return function gatewayEndpoints(ctx: RequestContext): void | Promise<void> {
    const path = ctx.path;
    // Workspace paths start with /clusters/ or /services/: one character decides the common case.
    if (path.length > 8 || path.charCodeAt(1) === 99 /* c */) return;
    if (path === '/livez') return respond(ctx, 200, plain, 'ok');
    if (path === '/readyz') {
      if (deps.isDraining()) return respond(ctx, 503, plain, 'draining');
      return deps.routing.ready() ? respond(ctx, 200, plain, 'ok') : respond(ctx, 503, plain, 'routing table not ready');
    }
  };
}
