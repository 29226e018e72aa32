// Kubernetes Events on consumer objects, so that `kubectl describe` in the workspace says what the worker
// did with an object: copied, failed and why, waiting for the service cluster to delete the copy.
// Aggregated as client-go's correlator does: one Event per object, type and reason, whose count goes up
// (and whose message becomes the latest) when it happens again; each Event is written at most once per
// interval, so a failure retried with backoff, or a poll every two seconds, never floods the workspace.
// Recording never waits for the write and never fails the caller: an Event is a courtesy, not state.
import { randomBytes } from 'node:crypto';
import { isNotFound, type KubeObject, type RestClient } from '../kube/rest-client.ts';
import { corePath } from './types.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent` of every Event. */
  component: string;
  /** Shortest time between two writes of one Event (default 10 s). */
  minIntervalMs?: number;
  /** Events remembered for aggregation; the oldest is forgotten beyond this (default 10 000). */
  maxTracked?: number;
  /**
   * Event writes under way at once (default 4); more wait their turn. The copies are the work and the
   * Events a courtesy: in a burst of new objects, an Event write per object would otherwise take every
   * other connection to the shard (and its CPU) from the reconciles that make the copies.
   */
  maxInFlight?: number;
  onError?(err: unknown): void;
}

/** Where the involved object lives: the client of its endpoint and its logical cluster. */
export interface EventTarget {
  client: RestClient;
  cluster: string;
  object: KubeObject;
}

interface Tracked {
  target: EventTarget;
  namespace: string;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  /** Count the server has; the Event is written again while `count` is ahead of it. */
  written: number;
  first: string;
  last: string;
  name: string | undefined;
  lastWriteAt: number;
  timer: NodeJS.Timeout | undefined;
  writing: Promise<void> | undefined;
}

export class EventRecorder {
  #options: EventRecorderOptions;
  #tracked = new Map<string, Tracked>();
  #writes = new Set<Promise<void>>();
  /** Due to be written once a write under way ends, oldest first. */
  #waiting = new Set<Tracked>();
  #stopped = false;

  constructor(options: EventRecorderOptions) {
    this.#options = options;
  }

  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    if (this.#stopped) return;
    const { metadata } = target.object;
    const key = `${target.cluster}|${metadata.namespace ?? ''}|${metadata.name}|${metadata.uid ?? ''}|${type}|${reason}`;
    const now = new Date().toISOString();
    let t = this.#tracked.get(key);
    if (t === undefined) {
      t = {
        target,
        namespace: metadata.namespace ?? 'default',
        type,
        reason,
        message,
        count: 1,
        written: 0,
        first: now,
        last: now,
        name: undefined,
        lastWriteAt: 0,
        timer: undefined,
        writing: undefined,
      };
      this.#tracked.set(key, t);
      this.#forgetOldest();
    } else {
      // Most recently used last, so the oldest entry is the one forgotten.
      this.#tracked.delete(key);
      this.#tracked.set(key, t);
      t.count++;
      t.message = message;
      t.last = now;
      t.target = target;
    }
    this.#schedule(t);
  }

  /** Stops writing; resolves when writes under way are done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#tracked.values()) clearTimeout(t.timer);
    this.#tracked.clear();
    this.#waiting.clear();
    await Promise.all(this.#writes);
  }

  #schedule(t: Tracked): void {
    if (this.#stopped || t.writing !== undefined || t.timer !== undefined || t.count === t.written) return;
    const wait = t.lastWriteAt + (this.#options.minIntervalMs ?? 10_000) - performance.now();
    if (t.lastWriteAt === 0 || wait <= 0) {
      this.#write(t);
      return;
    }
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.#write(t);
    }, wait);
    t.timer.unref();
  }

  #write(t: Tracked): void {
    if (this.#stopped) return;
    if (this.#writes.size >= (this.#options.maxInFlight ?? 4)) {
      this.#waiting.add(t); // written with the count it has by then
      return;
    }
    this.#waiting.delete(t);
    const count = t.count;
    const writing = this.#send(t, count)
      .then(
        () => {
          t.written = count;
        },
        (err: unknown) => {
          t.written = count; // not retried on its own: the next occurrence writes the count so far
          this.#options.onError?.(err);
        },
      )
      .finally(() => {
        t.lastWriteAt = performance.now();
        t.writing = undefined;
        this.#writes.delete(writing);
        this.#schedule(t);
        const next = this.#waiting.values().next();
        if (!next.done) this.#write(next.value);
      });
    t.writing = writing;
    this.#writes.add(writing);
  }

  async #send(t: Tracked, count: number): Promise<void> {
    const collection = `/clusters/${t.target.cluster}${corePath('Event', t.namespace)}`;
    if (t.name !== undefined) {
      try {
        await t.target.client.patch(`${collection}/${t.name}`, { count, message: t.message, lastTimestamp: t.last });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        t.name = undefined; // expired or deleted: start a new one carrying the count so far
      }
    }
    const { object } = t.target;
    const created = await t.target.client.create(collection, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${object.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: t.namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        ...(object.metadata.namespace !== undefined ? { namespace: object.metadata.namespace } : {}),
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      type: t.type,
      reason: t.reason,
      message: t.message,
      count,
      firstTimestamp: t.first,
      lastTimestamp: t.last,
      source: { component: this.#options.component },
      reportingComponent: this.#options.component,
    });
    t.name = created.metadata.name;
  }

  #forgetOldest(): void {
    const max = this.#options.maxTracked ?? 10_000;
    for (const [key, t] of this.#tracked) {
      if (this.#tracked.size <= max) break;
      clearTimeout(t.timer);
      this.#tracked.delete(key);
      this.#waiting.delete(t);
    }
  }
}
