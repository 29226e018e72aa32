// The one logging contract. Every module that logs takes a `Log`; only the commands create one (pino,
// with the level their config file names) and hand it, or a child of it, down. pino's Logger satisfies
// this interface as it is, and a test passes a recording one. Fields first, message second: the
// fields are what a log pipeline indexes, the message is for people.
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Log {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
  /** Whether a level is written, so a hot path can skip building a line nobody reads. Without it, every level is. */
  isLevelEnabled?(level: LogLevel): boolean;
}

/** For a module run without anyone listening (a one-shot command, a test that does not look). */
export const silentLog: Log = { error() {}, warn() {}, info() {}, debug() {} };
