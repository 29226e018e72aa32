// Every process the bench starts, so that every one of them is stopped again: on success, on failure,
// on Ctrl-C. Each child leads its own process group, so a proxy's worker processes go with it.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Managed {
  name: string;
  child: ChildProcess;
  /** Process group id (= the child's pid, since it leads its group). */
  pgid: number;
  logFile: string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
  /** The last lines of its output, for error messages. */
  tail(lines?: number): string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Open an IPC channel (the child must be a Node process). */
  ipc?: boolean;
}

export class Processes {
  readonly #running = new Set<Managed>();
  readonly #logDir: string;

  constructor(logDir: string) {
    this.#logDir = logDir;
    // Synchronous last resort: whatever is still running when this process exits is killed.
    process.on('exit', () => this.killAllNow());
  }

  spawn(name: string, command: string, args: string[], options: SpawnOptions = {}): Managed {
    const logFile = join(this.#logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const stdio: StdioOptions = options.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd];
    const child = spawn(command, args, { stdio, detached: true, env: options.env ?? process.env, cwd: options.cwd });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const pgid = child.pid;
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    const managed: Managed = {
      name,
      child,
      pgid,
      logFile,
      exited,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          signalGroup(pgid, 'SIGTERM');
          const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), 3000);
          await exited;
          clearTimeout(timer);
        }
        // Workers of a proxy can outlive their master for a moment.
        signalGroup(pgid, 'SIGKILL');
        this.#running.delete(managed);
      },
      tail: (lines = 20) => {
        try {
          return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
        } catch {
          return '';
        }
      },
    };
    this.#running.add(managed);
    void exited.then(() => {
      if (child.signalCode === null) this.#running.delete(managed);
    });
    return managed;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((m) => m.stop()));
  }

  killAllNow(): void {
    for (const m of this.#running) signalGroup(m.pgid, 'SIGKILL');
    this.#running.clear();
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}
