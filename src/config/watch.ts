// Hot reload for any config kind: the current value is swapped only after a new file validated and
// the caller accepted it, so a bad edit leaves the last good config serving and says why.
import { readFile } from 'node:fs/promises';
import { watchFile, type FileWatchOptions } from './file-watch.ts';
import { ConfigError, isConfigError } from './issues.ts';
import { parseConfig, type Config, type ConfigKind } from './loader.ts';
import type { Log } from '../log.ts';

export interface ConfigWatchOptions<Result> extends FileWatchOptions {
  /**
   * Applies a new value. Throwing (or rejecting) rejects the reload: the previous value stays current.
   * Runs one at a time, in file order.
   */
  onChange?: (next: Config<Result>, previous: Config<Result>) => void | Promise<void>;
  /** Told about every rejected edit (invalid file, missing file, or onChange failed). */
  onRejected?: (error: Error) => void;
  log?: Log;
}

export interface ConfigWatcher<Result> {
  /** The last good value. */
  readonly current: Config<Result>;
  /** How many edits were applied since start; lets tests and metrics see a reload happened. */
  readonly generation: number;
  close(): void;
}

/** Loads the file (throwing ConfigError when it is invalid) and keeps it current while it changes. */
export async function watchConfig<Raw, Result>(kind: ConfigKind<Raw, Result>, file: string, options: ConfigWatchOptions<Result> = {}): Promise<ConfigWatcher<Result>> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    throw new ConfigError(kind.what, file, [{ file, field: '', message: 'file does not exist' }]);
  }
  let current = await parseConfig(kind, text, file);
  let generation = 0;

  const reject = (error: Error) => {
    options.log?.error({ file, err: error.message }, `${kind.what} change rejected; keeping the previous one`);
    options.onRejected?.(error);
  };

  const fileWatch = watchFile(
    file,
    text,
    async (next) => {
      if (next === undefined) {
        reject(new ConfigError(kind.what, file, [{ file, field: '', message: 'file was removed' }]));
        return;
      }
      let value: Config<Result>;
      try {
        value = await parseConfig(kind, next, file);
      } catch (err) {
        reject(isConfigError(err) ? err : (err as Error));
        return;
      }
      try {
        await options.onChange?.(value, current);
      } catch (err) {
        reject(err as Error);
        return;
      }
      current = value;
      generation++;
      options.log?.info({ file, generation }, `${kind.what} reloaded`);
    },
    options,
  );

  return {
    get current() {
      return current;
    },
    get generation() {
      return generation;
    },
    close: () => fileWatch.close(),
  };
}
