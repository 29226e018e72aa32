// Calls back, debounced, when a file's content may have changed. It watches the file's directory,
// not the file: editors save by writing a new file and renaming it over the old one, and Kubernetes
// swaps ConfigMap mounts through a symlink, and both leave a watch on the old inode deaf.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

export interface FileWatchOptions {
  /** Quiet time after the last event before reading; collapses the bursts a single save makes. */
  debounceMs?: number;
}

/**
 * Invokes `onChange(text)` when the file's content differs from what was last seen (`undefined` when
 * it disappeared). Calls never overlap: a change arriving while onChange runs is read afterwards.
 */
export function watchFile(
  file: string,
  initialText: string | undefined,
  onChange: (text: string | undefined) => Promise<void> | void,
  { debounceMs = 100 }: FileWatchOptions = {},
): FileWatch {
  const name = basename(file);
  let lastText = initialText;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let pending = false;
  let closed = false;

  async function check(): Promise<void> {
    if (closed) return;
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === lastText || closed) return;
    lastText = text;
    await onChange(text);
  }

  function run(): void {
    if (running !== undefined) {
      pending = true;
      return;
    }
    running = check()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (pending && !closed) {
          pending = false;
          run();
        }
      });
  }

  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
    // Other files in the directory are ignored, except the dotted names ConfigMap mounts swap.
    if (changed !== null && changed !== name && !changed.startsWith('..')) return;
    clearTimeout(timer);
    timer = setTimeout(run, debounceMs);
  });
  watcher.on('error', () => undefined);

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
