// One ordered history of changes per shard, shared by every watch. A watch that starts from a
// resourceVersion older than what the history still holds is told 410 Expired, as etcd compaction makes
// kube-apiserver do; small history sizes let tests provoke that on purpose.
import type { KubeObject } from './types.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rv: number;
  cluster: string;
  /** `resource.group` key of the kind (`configmaps`, `workspaces.tenancy.kcp.io`). */
  gr: string;
  namespace: string;
  object: KubeObject;
  /** The object before a MODIFIED change, so selector watches can turn it into ADDED/DELETED. */
  previous?: KubeObject;
}

export type EventListener = (event: StoreEvent) => void;

export class HistoryExpiredError extends Error {
  readonly oldest: number;
  constructor(requested: number, oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.oldest = oldest;
  }
}

export class WatchHub {
  readonly #history: StoreEvent[] = [];
  readonly #capacity: number;
  /** Highest resourceVersion no longer in the history (0 while nothing was dropped). */
  #droppedThrough = 0;
  readonly #listeners = new Set<EventListener>();

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Whether changes after `rv` are still all in the history (false = a client at `rv` must relist). */
  covers(rv: number): boolean {
    return rv >= this.#droppedThrough;
  }

  publish(event: StoreEvent): void {
    this.#history.push(event);
    if (this.#history.length > this.#capacity) {
      const dropped = this.#history.shift();
      if (dropped !== undefined) this.#droppedThrough = dropped.rv;
    }
    for (const listener of [...this.#listeners]) {
      // One broken watcher must neither fail the write that produced the event nor starve the others.
      try {
        listener(event);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  /**
   * Replays what happened after `since` and then follows live changes. Throws HistoryExpiredError when
   * the events right after `since` were already dropped.
   */
  subscribe(since: number, listener: EventListener): () => void {
    if (since < this.#droppedThrough) throw new HistoryExpiredError(since, this.#droppedThrough + 1);
    for (const event of this.#history) if (event.rv > since) listener(event);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A restarted server: its history starts at `rv` (a restarted kube-apiserver fills its watch cache with
   * a fresh list), so a watch from an earlier resourceVersion gets 410 Expired and its client re-lists.
   */
  restartAt(rv: number): void {
    this.#history.length = 0;
    this.#droppedThrough = rv;
    this.#listeners.clear();
  }

  /** Live changes only, for the shard's own controllers. */
  follow(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
