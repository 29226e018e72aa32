// A request the shard has not started answering within the upstream bounds (connect + header timeout)
// gets its 504 from here, whatever undici is doing with it. undici's own timeouts run only once a
// request is on a connection: a request it holds in a Client whose HTTP/2 session the shard closed
// (GOAWAY) while watches still ran on it is not failed when the next dial fails, and waits for the last
// of those watches to end. One sweep over the requests in flight, not a timer per request (at 50 000
// open watches a sweep costs under a millisecond).
import type { RequestContext } from './context.ts';

/** Checks `inflight` every `intervalMs`; returns the function that stops checking. */
export function cutOffUnanswered(inflight: ReadonlySet<RequestContext>, boundMs: number, intervalMs = 250): () => void {
  const timer = setInterval(() => {
    const overdueBefore = performance.now() - boundMs;
    for (const ctx of inflight) ctx.upstream?.expireUnanswered?.(overdueBefore);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
