// Impersonate-* as kube-apiserver honours it, with kcp's gate in front: each asserted user, group, uid
// and extra must be allowed the `impersonate` verb by RBAC in the addressed logical cluster, and nobody
// but system:masters may take on a privileged group, whatever RBAC says.
import type { IncomingHttpHeaders } from 'node:http';
import { SimError } from '../errors.ts';
import type { Identity } from '../types.ts';
import type { Attributes } from './authorizer.ts';
import { isPrivileged } from './authorize.ts';

const privilegedGroup = (group: string) => group === 'system:masters' || group.startsWith('system:kcp:');

function values(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function requested(headers: IncomingHttpHeaders): Identity | undefined {
  const user = values(headers, 'impersonate-user')[0];
  const groups = values(headers, 'impersonate-group');
  const uid = values(headers, 'impersonate-uid')[0];
  const extra: Record<string, string[]> = {};
  for (const name of Object.keys(headers)) {
    if (name.startsWith('impersonate-extra-')) extra[decodeURIComponent(name.slice('impersonate-extra-'.length)).toLowerCase()] = values(headers, name);
  }
  if (user === undefined) {
    if (groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0) {
      throw new SimError(400, 'BadRequest', 'requested impersonation without a user: Impersonate-User is required');
    }
    return undefined;
  }
  // As kube does, an impersonated user other than anonymous is authenticated.
  const withAuthenticated = user === 'system:anonymous' || groups.includes('system:authenticated') ? groups : [...groups, 'system:authenticated'];
  return { user, groups: withAuthenticated, extra, ...(uid !== undefined ? { uid } : {}) };
}

function checks(target: Identity, asked: IncomingHttpHeaders): Attributes[] {
  const res = (apiGroup: string, resource: string, name: string, namespace = ''): Attributes => ({
    kind: 'resource',
    verb: 'impersonate',
    apiGroup,
    resource,
    subresource: '',
    namespace,
    name,
  });
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(target.user);
  const out: Attributes[] = [sa !== null ? res('', 'serviceaccounts', sa[2]!, sa[1]!) : res('', 'users', target.user)];
  for (const group of values(asked, 'impersonate-group')) out.push(res('', 'groups', group));
  if (target.uid !== undefined) out.push(res('authentication.k8s.io', 'uids', target.uid));
  for (const [key, vals] of Object.entries(target.extra)) for (const v of vals) out.push(res('authentication.k8s.io', `userextras/${key}`, v));
  return out;
}

/** The identity the request acts as: the caller's own, or the one it may impersonate in the addressed cluster. */
export function impersonate(caller: Identity, headers: IncomingHttpHeaders, callerMay: (attrs: Attributes) => boolean): Identity {
  const target = requested(headers);
  if (target === undefined) return caller;
  if (!isPrivileged(caller)) {
    const privileged = values(headers, 'impersonate-group').find(privilegedGroup);
    if (privileged !== undefined)
      throw new SimError(403, 'Forbidden', `User "${caller.user}" cannot impersonate group "${privileged}": impersonating a privileged group is not allowed`);
    for (const attrs of checks(target, headers)) {
      if (attrs.kind !== 'resource') continue;
      if (!callerMay(attrs)) {
        throw new SimError(
          403,
          'Forbidden',
          `${attrs.resource} "${attrs.name}" is forbidden: User "${caller.user}" cannot impersonate resource "${attrs.resource}" in API group "${attrs.apiGroup}"${attrs.namespace !== '' ? ` in the namespace "${attrs.namespace}"` : ' at the cluster scope'}`,
        );
      }
    }
  }
  return target;
}
