// Names on the service cluster. Everything is derived from the consumer object's origin, so a worker
// restarted with no local state (or a second replica) computes the very same names: that is what makes
// create-after-crash idempotent instead of duplicating.
import { createHash } from 'node:crypto';

export const MAX_NAMESPACE_LENGTH = 63;
const HASH_LENGTH = 8;

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, HASH_LENGTH);
}

/** Lower-cases and squeezes a string into DNS-1123 label characters (no leading/trailing '-'). */
function labelSafe(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * `ws-<workspace>-<hash>-<suffix>`, at most 63 characters. The hash is of the logical cluster, always
 * present: two organisations' `frontend` workspaces then never meet, and which one was synced first
 * does not decide anybody's name. The workspace part is truncated to fit; the hash keeps it unique.
 */
export function namespaceName(workspace: string, logicalCluster: string, suffix: string): string {
  const tail = `-${shortHash(logicalCluster)}-${suffix}`;
  const room = MAX_NAMESPACE_LENGTH - 'ws-'.length - tail.length;
  if (room < 1) throw new Error(`namespace suffix "${suffix}" leaves no room for the workspace name`);
  const ws = labelSafe(workspace).slice(0, room).replace(/-+$/, '') || 'x';
  return `ws-${ws}${tail}`;
}

/** Could namespaceName() have made this name for `suffix`? A cheap pre-filter; ownership is in the labels. */
export function mayBeNamespaceName(name: string, suffix: string): boolean {
  return name.startsWith('ws-') && name.endsWith(`-${suffix}`) && name.length <= MAX_NAMESPACE_LENGTH;
}

/** The workspace's own name: the last segment of a path like `root:org-acme:frontend`. */
export function workspaceNameFromPath(path: string): string {
  const segments = path.split(':');
  return segments[segments.length - 1] ?? path;
}

/**
 * Name of the copy inside the workspace namespace. Consumers in one workspace may use several
 * namespaces, all mirrored into one service namespace; objects from `default` keep their name (what a
 * newcomer expects to see), others get their namespace and a hash of the pair so no two collide.
 */
export function copyName(consumerNamespace: string | undefined, name: string): string {
  if (consumerNamespace === undefined || consumerNamespace === '' || consumerNamespace === 'default') return name;
  const base = `${consumerNamespace}-${name}`;
  const hash = shortHash(`${consumerNamespace}/${name}`);
  return `${base.slice(0, 253 - HASH_LENGTH - 1).replace(/[-.]+$/, '')}-${hash}`;
}

/** Cache key of a consumer object: `<cluster>|<namespace>/<name>`. */
export function objectKey(cluster: string, namespace: string | undefined, name: string): string {
  return `${cluster}|${namespace ?? ''}/${name}`;
}

export function parseObjectKey(key: string): { cluster: string; namespace: string; name: string } {
  const bar = key.indexOf('|');
  const slash = key.indexOf('/', bar);
  return { cluster: key.slice(0, bar), namespace: key.slice(bar + 1, slash), name: key.slice(slash + 1) };
}
