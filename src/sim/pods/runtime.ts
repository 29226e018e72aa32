// What the stand-in's pods "run": per pod, the lines its container wrote (for `kubectl logs`) and a small
// in-memory filesystem (for `kubectl cp` and exec'd commands). Kept beside the shard, never in the store.
import type { ShardState } from '../shard-state.ts';
import { PodFiles } from './files.ts';

export class PodLog {
  readonly lines: string[] = [];
  readonly #followers = new Set<(line: string) => void>();
  readonly #enders = new Set<() => void>();

  write(text: string): void {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const stamped = `${new Date().toISOString()} ${line}`;
      this.lines.push(stamped);
      for (const follower of this.#followers) follower(stamped);
    }
  }

  follow(onLine: (line: string) => void, onEnd: () => void): () => void {
    this.#followers.add(onLine);
    this.#enders.add(onEnd);
    return () => {
      this.#followers.delete(onLine);
      this.#enders.delete(onEnd);
    };
  }

  /** The container is gone: every `logs -f` ends. */
  end(): void {
    for (const end of this.#enders) end();
    this.#followers.clear();
    this.#enders.clear();
  }
}

export interface PodRuntime {
  log: PodLog;
  files: PodFiles;
}

const runtimes = new WeakMap<ShardState, Map<string, PodRuntime>>();

function key(cluster: string, namespace: string, name: string): string {
  return `${cluster}|${namespace}/${name}`;
}

export function podRuntime(shard: ShardState, cluster: string, namespace: string, name: string): PodRuntime {
  let pods = runtimes.get(shard);
  if (pods === undefined) runtimes.set(shard, (pods = new Map()));
  let runtime = pods.get(key(cluster, namespace, name));
  if (runtime === undefined) pods.set(key(cluster, namespace, name), (runtime = { log: new PodLog(), files: new PodFiles(name) }));
  return runtime;
}

export function forgetPod(shard: ShardState, cluster: string, namespace: string, name: string): void {
  const pods = runtimes.get(shard);
  pods?.get(key(cluster, namespace, name))?.log.end();
  pods?.delete(key(cluster, namespace, name));
}
