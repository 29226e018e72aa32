// Files a Redis connection takes secrets from (password, CA, client certificate and key): read when
// the first client needs one, then followed for as long as any client of this process uses it, so a
// rotated Kubernetes Secret (kubelet swaps a symlink in the mounted directory) reaches the next
// (re)connection without a restart. One watch per file and process, however many clients share it.
// The contents are never part of a message: errors and events name the file only.
import { readFileSync } from 'node:fs';
import { watchFile, type FileWatch } from '../config/index.ts';

export interface SecretFile {
  /** The file's current content; the last good one while the file is missing or empty. */
  readonly text: string;
  /** This user is done with it; the watch stops with the last user. */
  release(): void;
}

/** What happened to a followed file: `changed` (new content in use) or `kept` (unreadable or empty: the previous content stays). */
export type SecretFileEvent = { file: string; outcome: 'changed' | 'kept' };

interface Entry {
  text: string;
  users: number;
  watch: FileWatch;
}

const entries = new Map<string, Entry>();
const listeners = new Set<(event: SecretFileEvent) => void>();

/** Told about every change of every followed file (for logs); returns the unsubscribe function. */
export function onSecretFileEvent(listener: (event: SecretFileEvent) => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

function emit(event: SecretFileEvent): void {
  for (const listener of listeners) listener(event);
}

/** Reads a secret file now (throwing, naming the file, when it cannot be read or is empty) and follows it. */
export function openSecretFile(file: string): SecretFile {
  let entry = entries.get(file);
  if (entry === undefined) {
    const text = readSecretFile(file);
    const created: Entry = {
      text,
      users: 0,
      watch: watchFile(file, text, (next) => {
        if (next === undefined || next.trim() === '') {
          emit({ file, outcome: 'kept' });
          return;
        }
        created.text = next;
        emit({ file, outcome: 'changed' });
      }),
    };
    entry = created;
    entries.set(file, entry);
  }
  const used = entry;
  used.users++;
  let released = false;
  return {
    get text() {
      return used.text;
    },
    release() {
      if (released) return;
      released = true;
      if (--used.users > 0) return;
      used.watch.close();
      if (entries.get(file) === used) entries.delete(file);
    },
  };
}

/** The file's text, or an error saying why not (never what it holds). */
export function readSecretFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')}`);
  }
  if (text.trim() === '') throw new Error(`${file} is empty`);
  return text;
}

/** A password as written to a file: one trailing line break (echo, most editors) is not part of it. */
export function passwordFromFile(text: string): string {
  return text.replace(/\r?\n$/, '');
}
