// Where a limiter reads the policy from, once per request: a fixed policy, or a file that is watched
// and re-read when it changes. A reload swaps one reference, so requests in flight and open watches
// keep the decision (and the slot) they were admitted with, and the next request sees the new policy.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { defaultPolicyDocument } from './default-policy.ts';
import { compilePolicy, loadPolicyFile, type RateLimitPolicy } from './policy.ts';

export interface PolicySource {
  current(): RateLimitPolicy;
  close(): void;
}

export function defaultPolicy(): RateLimitPolicy {
  return compilePolicy(defaultPolicyDocument, 'built-in default policy');
}

export function staticPolicy(policy: RateLimitPolicy = defaultPolicy()): PolicySource {
  return { current: () => policy, close: () => {} };
}

export interface FilePolicyOptions {
  /** Called after a change was applied. */
  onReload?: (policy: RateLimitPolicy) => void;
  /** Called when a changed file is invalid; the previous policy stays in force. */
  onError?: (err: unknown) => void;
}

/**
 * Loads the file (throwing if it is invalid: a gateway must not start on a broken policy) and keeps
 * it current. Watches the directory, not the file, because editors and Kubernetes ConfigMap mounts
 * replace the file (rename or symlink swap) rather than write into it.
 */
export async function watchPolicyFile(file: string, options: FilePolicyOptions = {}): Promise<PolicySource> {
  let policy = await loadPolicyFile(file);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;
  let closed = false;

  const reload = async (): Promise<void> => {
    const mine = ++generation;
    try {
      const next = await loadPolicyFile(file);
      // A slower read of an older version must not overwrite a newer one.
      if (mine !== generation || closed) return;
      policy = next;
      options.onReload?.(next);
    } catch (err) {
      // A vanished file mid-swap is retried by the next event; an invalid one keeps the old policy.
      if (!closed) options.onError?.(err);
    }
  };

  const name = basename(file);
  watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
    if (changed !== null && changed !== name && !changed.startsWith('..')) return;
    // Writers often emit several events for one save; read once they settle.
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), 25);
  });
  watcher.on('error', (err) => options.onError?.(err));

  return {
    current: () => policy,
    close: () => {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
