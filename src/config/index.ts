// The config concern's public surface; everything else in this folder is an implementation detail.
export { defineConfig, loadConfig, parseConfig, type BuildContext, type Config, type ConfigKind, type ConfigSpec } from './loader.ts';
export { watchConfig, type ConfigWatcher, type ConfigWatchOptions } from './watch.ts';
export { watchFile, type FileWatch } from './file-watch.ts';
export { ConfigError, isConfigError, formatIssue, formatFieldPath, type ConfigIssue, type FieldPath } from './issues.ts';
export type { DeepReadonly } from './freeze.ts';
