// The log backend: one JSON Event per line, appended to a file that is rotated by size (file → file.1 →
// … → file.<maxBackups>, the oldest dropped), as kube-apiserver's --audit-log-maxsize/maxbackup do.
// Lines go through one write stream; when the disk falls behind by more than maxBufferBytes, events are
// dropped and counted rather than queued without bound.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Log } from '../log.ts';
import type { AuditBackend } from './backend.ts';
import type { AuditEvent } from './event.ts';
import type { AuditMetrics } from './metrics.ts';

export interface FileBackendOptions {
  path: string;
  maxSizeBytes: number;
  maxBackups: number;
  /** Bytes written but not yet flushed beyond which events are dropped. */
  maxBufferBytes?: number;
  metrics: AuditMetrics;
  log?: Log;
}

export class FileAuditBackend implements AuditBackend {
  readonly #options: FileBackendOptions;
  #stream: WriteStream;
  #size: number;
  #rotating: Promise<void> | undefined;
  /** Lines that arrived while rotating: written to the new file once it is open. */
  #pending: string[] = [];

  /** Use open(): it reads the size the file already has. */
  constructor(options: FileBackendOptions, size: number) {
    this.#options = options;
    this.#size = size;
    this.#stream = this.#open();
  }

  static async open(options: FileBackendOptions): Promise<FileAuditBackend> {
    await mkdir(dirname(options.path), { recursive: true });
    const size = await stat(options.path).then(
      (s) => s.size,
      () => 0,
    );
    return new FileAuditBackend(options, size);
  }

  #open(): WriteStream {
    const stream = createWriteStream(this.#options.path, { flags: 'a', mode: 0o600 });
    stream.on('error', (err) => this.#options.log?.error({ err: err.message, file: this.#options.path }, 'audit log write failed'));
    return stream;
  }

  process(event: AuditEvent): void {
    const line = JSON.stringify(event) + '\n';
    if (this.#rotating !== undefined) {
      if (this.#pending.length >= 10_000) return this.#options.metrics.dropped('file', 1);
      this.#pending.push(line);
      return;
    }
    if (this.#stream.writableLength > (this.#options.maxBufferBytes ?? 16 * 1024 * 1024)) return this.#options.metrics.dropped('file', 1);
    this.#stream.write(line);
    this.#size += Buffer.byteLength(line);
    this.#options.metrics.written('file', 1);
    if (this.#size >= this.#options.maxSizeBytes) this.#rotating = this.#rotate();
  }

  async #rotate(): Promise<void> {
    const { path, maxBackups } = this.#options;
    const old = this.#stream;
    await new Promise<void>((resolve) => old.end(resolve));
    try {
      if (maxBackups === 0) await rm(path, { force: true });
      else {
        await rm(`${path}.${maxBackups}`, { force: true });
        for (let i = maxBackups - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
        await rename(path, `${path}.1`);
      }
    } catch (err) {
      this.#options.log?.error({ err: (err as Error).message, file: path }, 'audit log rotation failed; appending to the same file');
    }
    this.#size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    this.#stream = this.#open();
    this.#rotating = undefined;
    const pending = this.#pending;
    this.#pending = [];
    for (const line of pending) {
      this.#stream.write(line);
      this.#size += Buffer.byteLength(line);
    }
    this.#options.metrics.written('file', pending.length);
    // What arrived meanwhile may fill the new file already.
    if (this.#size >= this.#options.maxSizeBytes) this.#rotating = this.#rotate();
  }

  /** Resolves once no rotation is under way (every event so far is in the current file's stream). */
  async settled(): Promise<void> {
    while (this.#rotating !== undefined) await this.#rotating;
  }

  async close(): Promise<void> {
    await this.settled();
    await new Promise<void>((resolve) => this.#stream.end(resolve));
  }
}
