// Stage: what the request names, in workspace and Kubernetes terms.
import { isLongRunning, requestAttributes } from '../../kube/request-attributes.ts';
import { parseRequestPath } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

const noQuery = new URLSearchParams();

export function parseWorkspacePath(ctx: RequestContext): void {
  const parsed = parseRequestPath(ctx.path);
  ctx.parsed = parsed;
  const query = ctx.query.length > 1 ? new URLSearchParams(ctx.query) : noQuery;
  const attrs = requestAttributes(ctx.req.method ?? 'GET', parsed.rest === '' ? '/' : parsed.rest, query);
  ctx.attrs = attrs;
  ctx.longRunning = ctx.upgrade !== undefined || isLongRunning(attrs, query);
}
