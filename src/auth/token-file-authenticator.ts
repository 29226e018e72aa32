// A static token file that follows its edits: adding or revoking a break-glass token must not need a
// restart. A broken edit keeps the tokens that were valid before it, and the log says why.
import { readFile } from 'node:fs/promises';
import type { Authenticator, Credentials, Identity } from './identity.ts';
import { StaticTokenAuthenticator } from './static-token.ts';
import { watchFile, type FileWatch } from '../config/index.ts';
import type { Log } from '../log.ts';

export class TokenFileAuthenticator implements Authenticator {
  #current: StaticTokenAuthenticator;
  #watch: FileWatch | undefined;

  private constructor(initial: StaticTokenAuthenticator) {
    this.#current = initial;
  }

  /** Reads the file (throwing when it is unreadable or malformed) and follows its changes. */
  static async open(file: string, { log, debounceMs }: { log?: Log; debounceMs?: number } = {}): Promise<TokenFileAuthenticator> {
    const text = await readFile(file, 'utf8');
    const self = new TokenFileAuthenticator(StaticTokenAuthenticator.fromCsv(text, file));
    self.#watch = watchFile(
      file,
      text,
      (next) => {
        if (next === undefined) {
          log?.error({ file }, 'token file was removed; keeping the previous tokens');
          return;
        }
        try {
          self.#current = StaticTokenAuthenticator.fromCsv(next, file);
          log?.info({ file }, 'token file reloaded');
        } catch (err) {
          log?.error({ file, err: (err as Error).message }, 'token file change rejected; keeping the previous tokens');
        }
      },
      debounceMs === undefined ? {} : { debounceMs },
    );
    return self;
  }

  authenticate(credentials: Credentials): Promise<Identity | undefined> {
    return this.#current.authenticate(credentials);
  }

  async close(): Promise<void> {
    this.#watch?.close();
  }
}
