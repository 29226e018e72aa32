// Config problems are collected, never thrown one at a time: an operator fixing a file wants the
// whole list (file, line, field path, reason) in one go, the way fastify and kube-apiserver report them.

/** A field inside a config document: object keys and array indexes, outermost first. */
export type FieldPath = readonly (string | number)[];

export interface ConfigIssue {
  file: string;
  /** Dotted field path with array indexes, e.g. `routes[2].shard`; empty for the document itself. */
  field: string;
  message: string;
  /** 1-based position of the field in the file, when the file has that field. */
  line?: number;
  column?: number;
}

export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.field === '' ? '(document)' : issue.field}: ${issue.message}`;
}

/** Every problem found in one config file. Its message lists all of them, one per line. */
export class ConfigError extends Error {
  readonly file: string;
  readonly issues: readonly ConfigIssue[];

  constructor(what: string, file: string, issues: readonly ConfigIssue[]) {
    const count = issues.length === 1 ? '1 error' : `${issues.length} errors`;
    super([`invalid ${what} ${file} (${count}):`, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n'));
    this.name = 'ConfigError';
    this.file = file;
    this.issues = Object.freeze([...issues]);
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
