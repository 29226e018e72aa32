// Stage: a client running inside a workspace (client-go's in-cluster config) talks to the server URL
// with no /clusters/ prefix. kcp routes such a request by the logical cluster its service-account token
// claims (WithInClusterServiceAccountRequestRewrite); so does the gateway. The claim is read unverified:
// it only chooses the path, and the request is then resolved and authenticated like any other, where
// a token used outside its own cluster is refused.
import { bearerToken } from '../../auth/credentials.ts';
import { claimedClusterOf } from '../../auth/service-account-claims.ts';
import { shardPrefix } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

const logicalClusterName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function routeInClusterClients(ctx: RequestContext): void {
  const path = ctx.path;
  if (path.startsWith('/clusters/') || path.startsWith('/services/') || path.startsWith(shardPrefix)) return;
  const token = bearerToken(ctx.req.headers);
  if (token === undefined) return;
  const cluster = claimedClusterOf(token);
  if (cluster === undefined || !logicalClusterName.test(cluster)) return;
  ctx.path = `/clusters/${cluster}${path === '/' ? '' : path}`;
}
