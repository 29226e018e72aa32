// A Log that keeps what it is told, for tests asserting on what a module reported.
import type { Log } from '../../src/log.ts';

export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  fields: Record<string, unknown>;
  msg: string;
}

export function recordingLog(): Log & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (fields: object, msg: string) => void entries.push({ level, fields: { ...fields }, msg });
  return { entries, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
