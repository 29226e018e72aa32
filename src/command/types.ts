// What every subcommand of the one CLI entry is: its options, its run, its nested commands. The commands
// live beside the concern they drive; this module is what they and the entry share.
import type { ParseArgsConfig } from 'node:util';

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: OptionValues, positionals: string[]): Promise<number | void>;
  /** Nested commands (`kcp-edge dev token …`), chosen by the first argument, each with its own options. */
  subcommands?: Record<string, () => Promise<{ command: Command }>>;
}
