// List-then-watch of one collection, keeping an in-memory copy of it: the informer of client-go, cut
// down to what the sync worker and the routing indexer need. Written by hand because their collections
// live under URLs with `/clusters/*` in them (shards, virtual workspaces) and each reflector must report
// the objects of the one server it talks to.
//
// Semantics: the initial list is paged; the watch resumes from the last resourceVersion seen (bookmarks
// keep it fresh on a quiet collection); 410 Gone means the history is compacted, so the collection is
// listed again and the difference reported as changes; any other failure retries with backoff. A server
// that is down delays, never loses: on return the re-list reports whatever happened meanwhile, and
// `onRecovered` tells the owner, whose own work against that server may have given up meanwhile.
import { backoffDelay, sleep, type BackoffPolicy, defaultBackoff } from './backoff.ts';
import { isGone, type KubeObject, type Query, type RestClient } from './rest-client.ts';

export interface ReflectorOptions {
  client: RestClient;
  /** Collection path, e.g. `/clusters/*\/apis/g/v1/things`. */
  path: string;
  labelSelector?: string;
  /** Key of an object in the store. */
  keyOf(object: KubeObject): string;
  /** Called for every change, after the store is updated; `object` is undefined when it went away. */
  onChange(key: string, object: KubeObject | undefined, previous: KubeObject | undefined): void;
  onError?(err: unknown): void;
  /**
   * Shapes each object before it is stored and reported (client-go's SetTransform), e.g. down to its
   * metadata when the caller must hear of changes but need not hold the payload. `undefined` drops the
   * object: it is neither stored nor reported, and one that was stored is reported as gone.
   */
  transform?(object: KubeObject): KubeObject | undefined;
  /** Called once the first list is in the store. */
  onSynced?(): void;
  /** Called when the server answers (a list, or a watch accepted) after list or watch requests failed. */
  onRecovered?(): void;
  pageSize?: number;
  backoff?: BackoffPolicy;
}

export class Reflector {
  readonly store = new Map<string, KubeObject>();
  #options: ReflectorOptions;
  #abort = new AbortController();
  #resourceVersion: string | undefined;
  #synced = false;
  #running: Promise<void> | undefined;
  #failing = false;

  constructor(options: ReflectorOptions) {
    this.#options = options;
  }

  get synced(): boolean {
    return this.#synced;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(signal);
          needList = false;
        }
        await this.#watch(signal);
        failures = 0; // a watch that ended normally (server timeout) is simply resumed
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          needList = true;
          continue;
        }
        this.#failing = true;
        this.#options.onError?.(err);
        await sleep(backoffDelay(failures++, this.#options.backoff ?? defaultBackoff), signal);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const seen = new Map<string, KubeObject>();
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const query: Query = { limit: this.#options.pageSize ?? 500, continue: continueToken, labelSelector: this.#options.labelSelector };
      const page = await this.#options.client.list(this.#options.path, query);
      if (signal.aborted) return;
      for (const raw of page.items) {
        const item = this.#shape(raw);
        if (item !== undefined) seen.set(this.#options.keyOf(item), item);
      }
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken !== undefined);
    // Replace the store, reporting the difference: a re-list after a gap must surface deletions too.
    for (const [key, previous] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.#options.onChange(key, undefined, previous);
      }
    }
    for (const [key, object] of seen) {
      const previous = this.store.get(key);
      this.store.set(key, object);
      if (previous?.metadata.resourceVersion !== object.metadata.resourceVersion || !this.#synced) {
        this.#options.onChange(key, object, previous);
      }
    }
    this.#resourceVersion = resourceVersion;
    this.#answered();
    if (!this.#synced) {
      this.#synced = true;
      this.#options.onSynced?.();
    }
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const query: Query = {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      labelSelector: this.#options.labelSelector,
      // Spread reconnects so replicas do not re-watch in lockstep.
      timeoutSeconds: 240 + Math.floor(Math.random() * 120),
    };
    for await (const event of this.#options.client.watch(this.#options.path, query, signal, () => this.#answered())) {
      const rv = event.object.metadata?.resourceVersion;
      if (event.type === 'BOOKMARK') {
        if (rv !== undefined) this.#resourceVersion = rv;
        continue;
      }
      const object = this.#shape(event.object);
      const key = this.#options.keyOf(object ?? event.object);
      const previous = this.store.get(key);
      if (event.type === 'DELETED' || object === undefined) {
        if (previous !== undefined || object !== undefined) {
          this.store.delete(key);
          this.#options.onChange(key, undefined, previous ?? object);
        }
      } else {
        this.store.set(key, object);
        this.#options.onChange(key, object, previous);
      }
      if (rv !== undefined) this.#resourceVersion = rv;
    }
  }

  #answered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#options.onRecovered?.();
  }

  #shape(object: KubeObject): KubeObject | undefined {
    return this.#options.transform === undefined ? object : this.#options.transform(object);
  }
}
