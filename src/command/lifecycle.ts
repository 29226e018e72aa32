// How every long-running command (serve, sync, index) ends, and what its exit status means. The first
// SIGTERM/SIGINT starts a drain; the drain has a bound, past which the process exits anyway; a second
// signal exits at once without waiting. One place, so an operator's Ctrl-C and Kubernetes' SIGTERM mean
// the same thing whichever command they reach.
import type { Log } from '../log.ts';

/** The exit statuses of every command: scripts and orchestrators branch on these, not on messages. */
export const exitCode = {
  ok: 0,
  /** A config file (or a file it names) is invalid, a drain failed or overran its bound. */
  failed: 1,
  config: 1,
  /** Bad flags or arguments: the invocation, not the files, needs fixing. */
  usage: 2,
  /** A second signal cut the drain short (128 + SIGINT, the shell's convention for "interrupted"). */
  forced: 130,
} as const;

export interface RunUntilStoppedOptions {
  log: Log;
  /** Most time the drain may take before the process exits with `failed` regardless. */
  drainTimeoutMs: number;
  /** Stops the work and closes what the command opened; resolves once everything is closed. */
  drain(): Promise<void>;
  /** Besides signals, something else that may ask for the drain (a cluster worker's supervisor). */
  onDrainRequest?(drain: () => void): void;
}

/**
 * Waits for the first SIGTERM/SIGINT (or drain request), drains within the bound and resolves with the
 * exit status. A process whose handles outlive the drain still exits shortly after: nothing is left to
 * wait for once the drain said it was done.
 */
export async function runUntilStopped(options: RunUntilStoppedOptions): Promise<number> {
  const { log, drainTimeoutMs } = options;
  const code = await new Promise<number>((resolve) => {
    let draining = false;
    const drain = (fields: object) => {
      if (draining) return;
      draining = true;
      log.info({ ...fields, boundMs: drainTimeoutMs }, 'draining');
      const bound = setTimeout(() => {
        log.error({ boundMs: drainTimeoutMs }, 'drain overran its bound; exiting');
        process.exit(exitCode.failed);
      }, drainTimeoutMs);
      bound.unref();
      options.drain().then(
        () => {
          clearTimeout(bound);
          log.info({}, 'drained; bye');
          resolve(exitCode.ok);
        },
        (err: unknown) => {
          clearTimeout(bound);
          log.error({ err: err instanceof Error ? err.message : String(err) }, 'drain failed');
          resolve(exitCode.failed);
        },
      );
    };
    // Signals are counted, not drains: a cluster worker is asked by its supervisor and may get the
    // signal itself as well (Ctrl-C reaches the whole process group), in either order. That is one
    // drain; only a second signal cuts it short.
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        log.warn({ signal }, 'second signal: exiting without waiting for the drain');
        process.exit(exitCode.forced);
      }
      drain({ signal });
    };
    process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
    options.onDrainRequest?.(() => drain({ askedBy: 'supervisor' }));
  });
  setTimeout(() => process.exit(code), 1_000).unref();
  return code;
}
