// Requests and policies the rate-limit tests share.
import type { Identity } from '../../src/auth/identity.ts';
import { requestAttributes, type RequestAttributes } from '../../src/kube/request-attributes.ts';

export function user(name: string, ...groups: string[]): Identity {
  return { user: name, groups, extra: {} };
}

/** Attributes of `METHOD /path?query` as the gateway computes them. */
export function req(method: string, pathAndQuery: string): RequestAttributes {
  const url = new URL(pathAndQuery, 'https://edge.invalid');
  return requestAttributes(method, url.pathname, url.searchParams);
}

export function ws(workspace: string): { org: string; workspace: string } {
  const path = workspace.replace(/^root:/, '');
  return { org: path.split(':')[0]!, workspace: `root:${path}` };
}

/** A tight policy: per-org flows for tenants, probes exempt, everything else on the catch-all. */
export const tenantPolicy = `
costs:
  listWithoutLimit: 5
priorityLevels:
  - name: tenants
    limits: { rate: 2, burst: 5, maxOpenWatches: 2, maxInFlight: 3 }
flowSchemas:
  - name: per-org
    precedence: 100
    priorityLevel: tenants
    distinguisher: byOrg
    rules:
      - orgs: ["org-*"]
`;
