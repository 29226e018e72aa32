// A one-line progress bar for long operator commands, drawn only on a terminal (a redirected stderr
// gets nothing, so logs stay clean). Hand-written: a dozen lines do not justify a dependency.
import type { WriteStream } from 'node:tty';

export interface Progress {
  /** `fraction` of the work done (0..1, or undefined when the total is unknown), `count` things so far. */
  update(fraction: number | undefined, count: number, unit: string): void;
  finish(): void;
}

export function progressBar(stream: NodeJS.WritableStream, intervalMs = 100): Progress {
  const tty = (stream as Partial<WriteStream>).isTTY === true ? (stream as WriteStream) : undefined;
  if (tty === undefined) return { update() {}, finish() {} };
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(fraction, done, unit) {
      const now = Date.now();
      if (now - last < intervalMs && fraction !== 1) return;
      last = now;
      const ratio = Math.min(1, fraction ?? 0);
      const width = Math.max(10, Math.min(40, (tty.columns ?? 80) - 50));
      const filled = Math.round(ratio * width);
      const rate = Math.round(done / Math.max(0.001, (now - started) / 1000));
      tty.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${done} ${unit} ${rate}/s\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) tty.write('\n');
    },
  };
}
