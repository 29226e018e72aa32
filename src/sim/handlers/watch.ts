// Watch: newline-delimited JSON events over a chunked response, from a resourceVersion (or from "now"
// with synthetic ADDED events), with bookmarks, timeoutSeconds, sendInitialEvents and 410 Expired.
import { badRequest } from '../errors.ts';
import { queryBool, queryInt } from '../query-params.ts';
import { fieldMatcher, labelMatcher } from '../selectors.ts';
import { grOf } from '../shard-state.ts';
import { toTable, wantsTable } from '../table.ts';
import { groupVersion, type KubeObject } from '../types.ts';
import { HistoryExpiredError, type StoreEvent } from '../watch-hub.ts';
import { storedObjectJson } from '../object-json.ts';
import type { ResourceRequest } from './context.ts';
import { matchingObjects } from './read.ts';

type WireEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: unknown };

export function handleWatch(r: ResourceRequest): void {
  const { query, res, shard, type } = r;
  const rvParam = query.get('resourceVersion') ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
  const sendInitial = queryBool(query, 'sendInitialEvents');
  const bookmarks = queryBool(query, 'allowWatchBookmarks');
  const timeoutSeconds = queryInt(query, 'timeoutSeconds') ?? 0;
  const accept = r.req.headers.accept ?? '';
  const asTable = wantsTable(accept);
  const labels = labelMatcher(query.get('labelSelector'));
  const fields = fieldMatcher(query.get('fieldSelector'));
  const gr = grOf(type);
  const matches = (object: KubeObject) => labels(object) && fields(object);

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  res.flushHeaders();
  let columnsSent = false;
  /** `stored`: the event carries a stored object (a live change), whose text every watcher shares. */
  const write = (event: WireEvent, stored = false) => {
    if (res.writableEnded || res.destroyed) return;
    if (asTable && (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')) {
      const o = event.object as KubeObject;
      const table = toTable(type, [o], accept, { resourceVersion: o.metadata.resourceVersion }, !columnsSent);
      columnsSent = true;
      res.write(JSON.stringify({ type: event.type, object: table }) + '\n');
      return;
    }
    // Byte for byte what JSON.stringify({ type, object }) gives.
    const text = stored ? storedObjectJson(event.object as KubeObject) : JSON.stringify(event.object);
    res.write(`{"type":"${event.type}","object":${text}}\n`);
  };
  const bookmark = (annotations?: Record<string, string>) =>
    write({
      type: 'BOOKMARK',
      object: { kind: type.kind, apiVersion: groupVersion(type), metadata: { resourceVersion: String(shard.store.currentRV()), ...(annotations ? { annotations } : {}) } },
    });

  let since = Number(rvParam === '' ? '0' : rvParam);
  if (since === 0 || sendInitial) {
    // "Start at most recent": the current state as ADDED events, then live changes.
    const startRV = shard.store.currentRV();
    for (const object of matchingObjects(r)) write({ type: 'ADDED', object });
    if (sendInitial && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    since = startRV;
  }

  const onEvent = (event: StoreEvent) => {
    if (event.gr !== gr || !r.visible(event.cluster)) return;
    if (r.cluster !== '*' && event.cluster !== r.cluster) return;
    if (r.namespace !== '' && event.namespace !== r.namespace) return;
    // No copy per watcher: present() never changes its argument, and the event is only read and serialised.
    const object = r.present(event.cluster, event.object);
    const now = matches(object);
    if (event.type === 'MODIFIED' && event.previous !== undefined) {
      const before = matches(r.present(event.cluster, event.previous));
      if (before && !now) write({ type: 'DELETED', object }, true);
      else if (!before && now) write({ type: 'ADDED', object }, true);
      else if (now) write({ type: 'MODIFIED', object }, true);
      return;
    }
    if (now) write({ type: event.type, object }, true);
  };

  let unsubscribe: () => void = () => undefined;
  try {
    unsubscribe = shard.store.hub.subscribe(since, onEvent);
  } catch (err) {
    if (!(err instanceof HistoryExpiredError)) throw err;
    write({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'Expired', code: 410 } });
    res.end();
    return;
  }

  const timers: NodeJS.Timeout[] = [];
  if (bookmarks) timers.push(setInterval(() => bookmark(), shard.settings.bookmarkIntervalMs));
  if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
  const stop = () => {
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
  };
  res.on('close', stop);
}
