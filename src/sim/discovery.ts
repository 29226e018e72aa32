// Discovery documents: legacy (/api, /apis, /apis/<g>, /apis/<g>/<v>) and aggregated
// (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`), built from the kinds the
// addressed cluster serves at that moment (bound kinds appear as soon as their binding is).
import { groupVersion, type ResourceType } from './types.ts';

export function aggregatedVersionAsked(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    if (!/as=APIGroupDiscoveryList/.test(part) || !/g=apidiscovery\.k8s\.io/.test(part)) continue;
    if (/v=v2beta1/.test(part)) return 'v2beta1';
    if (/v=v2(;|$|\s)/.test(part)) return 'v2';
  }
  return undefined;
}

function groupsOf(types: ResourceType[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const t of types) {
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return groups;
}

function subresourceKind(type: ResourceType, sub: string): string {
  if (sub === 'token') return 'TokenRequest';
  const options: Record<string, string> = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' };
  return options[sub] ?? type.kind;
}

function subresourceVerbs(sub: string): string[] {
  if (sub === 'exec' || sub === 'attach' || sub === 'portforward') return ['create', 'get'];
  if (sub === 'finalize') return ['update'];
  if (sub === 'log') return ['get'];
  if (sub === 'token') return ['create'];
  return ['get', 'patch', 'update'];
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(group: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

export function apiGroupList(types: ResourceType[]): Record<string, unknown> {
  const groups = [...groupsOf(types)].filter(([g]) => g !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([g, v]) => groupEntry(g, v)) };
}

export function apiGroup(types: ResourceType[], group: string): Record<string, unknown> | undefined {
  const versions = groupsOf(types).get(group);
  if (versions === undefined || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group, versions) };
}

export function apiResourceList(types: ResourceType[], group: string, version: string): Record<string, unknown> | undefined {
  const selected = types.filter((t) => t.group === group && t.version === version);
  if (selected.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const t of selected) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames !== undefined ? { shortNames: t.shortNames } : {}),
      ...(t.categories !== undefined ? { categories: t.categories } : {}),
    });
    for (const sub of t.subresources ?? []) {
      resources.push({ name: `${t.resource}/${sub}`, singularName: '', namespaced: t.namespaced, kind: subresourceKind(t, sub), verbs: subresourceVerbs(sub) });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

/** `/api` (core only) or `/apis` (every named group) in the aggregated format. */
export function aggregatedDiscovery(types: ResourceType[], core: boolean, version: 'v2' | 'v2beta1'): Record<string, unknown> {
  const items = [...groupsOf(types)]
    .filter(([g]) => (core ? g === '' : g !== ''))
    .map(([group, versions]) => ({
      metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
      versions: versions.map((v) => ({
        version: v,
        freshness: 'Current',
        resources: types
          .filter((t) => t.group === group && t.version === v)
          .map((t) => ({
            resource: t.resource,
            responseKind: { group: t.group, version: t.version, kind: t.kind },
            scope: t.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: t.singular,
            verbs: t.verbs,
            ...(t.shortNames !== undefined ? { shortNames: t.shortNames } : {}),
            ...(t.categories !== undefined ? { categories: t.categories } : {}),
            ...((t.subresources ?? []).length > 0
              ? {
                  subresources: (t.subresources ?? []).map((sub) => ({
                    subresource: sub,
                    responseKind: {
                      group: ['exec', 'attach', 'portforward'].includes(sub) ? '' : sub === 'token' ? 'authentication.k8s.io' : t.group,
                      version: t.version,
                      kind: subresourceKind(t, sub),
                    },
                    verbs: subresourceVerbs(sub),
                  })),
                }
              : {}),
          })),
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

export function aggregatedContentType(version: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}
