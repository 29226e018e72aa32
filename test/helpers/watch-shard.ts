// A shard stand-in that keeps every watch open (headers and one bookmark, then nothing) and counts the
// requests open at it now: what a leak leaves behind is visible there, whatever the gateway thinks.
import type { TestContext } from 'node:test';
import { startTestShard, type Pki, type TestShard } from '../gateway/fixtures.ts';

/** kube-apiserver's reading of ?watch: only absent, 0 and false (any case) are no watch. */
function isWatch(url: string): boolean {
  const value = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('watch');
  return url.includes('?') && value !== null && value !== '0' && value.toLowerCase() !== 'false';
}

export interface WatchShard extends TestShard {
  /** Requests the shard is serving now (watches held open). */
  readonly open: number;
  /** Every request path (with query) that reached it. */
  readonly paths: string[];
}

export async function startWatchShard(t: TestContext, pki: Pki): Promise<WatchShard> {
  let open = 0;
  const paths: string[] = [];
  const shard = await startTestShard(t, pki, (_req, res, seen) => {
    paths.push(seen.url);
    open++;
    res.once('close', () => open--);
    res.writeHead(200, { 'content-type': 'application/json' });
    if (!isWatch(seen.url)) {
      res.end('{"kind":"ConfigMapList","apiVersion":"v1","metadata":{},"items":[]}');
      return;
    }
    res.write('{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"1"}}}\n');
  });
  // Not Object.assign: it would copy the getter's value of now.
  return Object.defineProperties(shard, {
    open: { get: () => open },
    paths: { value: paths },
  }) as WatchShard;
}
