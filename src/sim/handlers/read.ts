// GET of one object, and list with selectors and limit/continue paging.
import { badRequest, notFound, SimError } from '../errors.ts';
import { sendJSON, sendStoredObject } from '../http-io.ts';
import { queryInt } from '../query-params.ts';
import { fieldMatcher, labelMatcher } from '../selectors.ts';
import { grOf } from '../shard-state.ts';
import { toTable, wantsTable } from '../table.ts';
import { groupVersion, type KubeObject } from '../types.ts';
import type { ResourceRequest } from './context.ts';

export function handleGet(r: ResourceRequest): void {
  // Only read and serialised: the stored object itself, no copy.
  const object = r.shard.store.peek(r.cluster, grOf(r.type), r.namespace, r.name) as KubeObject | undefined;
  if (object === undefined || !r.visible(r.cluster)) throw notFound(r.type.resource, r.name, r.type.group);
  const shown = r.present(r.cluster, object);
  const accept = r.req.headers.accept;
  if (wantsTable(accept) && r.subresource === '') {
    sendJSON(r.res, 200, toTable(r.type, [shown], accept ?? '', { resourceVersion: object.metadata.resourceVersion }));
    return;
  }
  sendStoredObject(r.res, 200, shown);
}

export function matchingObjects(r: ResourceRequest): KubeObject[] {
  const labels = labelMatcher(r.query.get('labelSelector'));
  const fields = fieldMatcher(r.query.get('fieldSelector'));
  return r.shard.store
    .list(r.cluster, grOf(r.type), r.namespace)
    .filter((item) => r.visible(item.cluster))
    .map((item) => r.present(item.cluster, item.object))
    .filter((object) => labels(object) && fields(object));
}

interface ContinueToken {
  rv: string;
  after: number;
}

function decodeContinue(token: string | null): ContinueToken | undefined {
  if (token === null || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (typeof parsed.after !== 'number' || typeof parsed.rv !== 'string') throw new Error('shape');
    return parsed;
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data');
  }
}

export function handleList(r: ResourceRequest): void {
  const all = matchingObjects(r);
  const limit = queryInt(r.query, 'limit') ?? 0;
  const start = decodeContinue(r.query.get('continue'));
  // Paging and exact reads are consistent snapshots in kube; once the history no longer reaches back to
  // their resourceVersion they fail with 410 Expired and the client relists.
  const hub = r.shard.store.hub;
  if (start !== undefined && !hub.covers(Number(start.rv))) {
    throw new SimError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
  }
  const exact = r.query.get('resourceVersionMatch') === 'Exact' ? Number(r.query.get('resourceVersion') ?? '0') : undefined;
  if (exact !== undefined && exact !== r.shard.store.currentRV() && !hub.covers(exact)) {
    throw new SimError(410, 'Expired', `too old resource version: ${exact} (${r.shard.store.currentRV()})`);
  }
  const rv = start?.rv ?? String(r.shard.store.currentRV());
  const offset = start?.after ?? 0;
  const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
  const remaining = all.length - offset - page.length;
  const metadata: Record<string, unknown> = { resourceVersion: rv };
  if (limit > 0 && remaining > 0) {
    metadata['continue'] = Buffer.from(JSON.stringify({ rv, after: offset + page.length })).toString('base64url');
    metadata['remainingItemCount'] = remaining;
  }
  const accept = r.req.headers.accept;
  if (wantsTable(accept)) {
    sendJSON(r.res, 200, toTable(r.type, page, accept ?? '', metadata));
    return;
  }
  sendJSON(r.res, 200, { kind: `${r.type.kind}List`, apiVersion: groupVersion(r.type), metadata, items: page });
}
