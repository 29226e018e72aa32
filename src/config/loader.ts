// The one config loader every kcp-edge file goes through (gateway, routing, rate policy, sync, …).
//
//   const kind = defineConfig<RawShape, Result>({ what: 'rate policy', schema, build });
//   const policy = await loadConfig(kind, 'config/ratelimit.yaml');   // Config<Result>, deeply frozen
//
// Steps: read the YAML file → parse (syntax errors with line and column) → validate against the JSON
// schema with ajv (all errors, defaults filled in) → optional `build` turns the raw shape into what the
// caller wants (reading referenced files, cross-field rules, each problem recorded with `ctx.issue`) →
// deep freeze. If any step found a problem, a single ConfigError lists every one of them with file,
// line, field path and reason. The result carries a brand only this module can apply, so a function
// that takes `Config<X>` can only be handed a validated value.
import { Ajv, type SchemaObject, type ValidateFunction } from 'ajv';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { translateAjvErrors, type RawIssue } from './ajv-issues.ts';
import { deepFreeze, type DeepReadonly } from './freeze.ts';
import { ConfigError, formatFieldPath, type ConfigIssue, type FieldPath } from './issues.ts';

declare const validated: unique symbol;

/** A deeply frozen config value that went through loadConfig/parseConfig and nothing else. */
export type Config<T> = DeepReadonly<T> & { readonly [validated]: true };

export interface BuildContext {
  /** The config file, as given to the loader. */
  readonly file: string;
  /** Records a problem with a field; the load fails after build returns, listing every problem. */
  issue(path: FieldPath, message: string): void;
  /** Resolves a path written in the file relative to the file's own directory. */
  resolvePath(path: string): string;
  /** Reads a file named by a field (relative to the config file); records an issue and returns undefined when it cannot. */
  readReferencedFile(path: FieldPath, file: string): Promise<string | undefined>;
}

export interface ConfigSpec<Raw, Result> {
  /** What the file is, for messages: "gateway config", "routing table", "rate policy". */
  what: string;
  /** JSON schema (draft-07) of the YAML document. `default`s are filled in; `errorMessage` (a string) replaces ajv's wording for its schema. */
  schema: SchemaObject;
  /** Turns the validated raw document into the result; runs only when the schema found no problem. */
  build?: (raw: DeepReadonly<Raw>, ctx: BuildContext) => Result | Promise<Result>;
}

export interface ConfigKind<Raw, Result> {
  readonly what: string;
  readonly spec: ConfigSpec<Raw, Result>;
  readonly validate: ValidateFunction;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, allowUnionTypes: true });
// An annotation, not a rule: the wording to use when the schema it sits in fails.
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });

/** Compiles the schema once; a broken schema is a programming error and throws here, at import time. */
export function defineConfig<Raw, Result = Raw>(spec: ConfigSpec<Raw, Result>): ConfigKind<Raw, Result> {
  return Object.freeze({ what: spec.what, spec, validate: ajv.compile(spec.schema) });
}

/** Document order: a reader fixes a file top to bottom. Issues without a position (the file itself) come first. */
function byPosition(issues: ConfigIssue[]): ConfigIssue[] {
  const key = (i: ConfigIssue) => (i.line ?? 0) * 1e6 + (i.column ?? 0);
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => key(a.issue) - key(b.issue) || a.order - b.order)
    .map((e) => e.issue);
}

function positionOf(doc: Document, lines: LineCounter, path: FieldPath): { line: number; column: number } | undefined {
  // The field itself, or the closest enclosing field that exists (a missing key points at its parent).
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range !== undefined && node.range !== null) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return undefined;
}

/** Validates YAML text; `file` is used for messages and to resolve relative paths. */
export async function parseConfig<Raw, Result>(kind: ConfigKind<Raw, Result>, text: string, file: string): Promise<Config<Result>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      kind.what,
      file,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { file, field: '', message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`, line, column: col };
      }),
    );
  }
  // An empty file is an empty mapping, so "field X is required" is what the operator reads.
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const toIssue = (raw: RawIssue): ConfigIssue => ({ file, field: formatFieldPath(raw.path), message: raw.message, ...positionOf(doc, lines, raw.path) });

  if (!kind.validate(data)) {
    throw new ConfigError(kind.what, file, byPosition(translateAjvErrors(kind.validate.errors ?? [], data).map(toIssue)));
  }
  const raw = data as DeepReadonly<Raw>;
  let result: unknown = raw;
  if (kind.spec.build !== undefined) {
    const found: RawIssue[] = [];
    const base = dirname(file);
    const resolvePath = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
    const ctx: BuildContext = {
      file,
      issue: (path, message) => void found.push({ path: [...path], message }),
      resolvePath,
      async readReferencedFile(path, name) {
        try {
          return await readFile(resolvePath(name), 'utf8');
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          found.push({ path: [...path], message: `cannot read ${resolvePath(name)}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}` });
          return undefined;
        }
      },
    };
    result = await kind.spec.build(raw, ctx);
    if (found.length > 0) throw new ConfigError(kind.what, file, byPosition(found.map(toIssue)));
  }
  return deepFreeze(result) as Config<Result>;
}

/** Reads and validates a config file. Throws ConfigError listing every problem. */
export async function loadConfig<Raw, Result>(kind: ConfigKind<Raw, Result>, file: string): Promise<Config<Result>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(kind.what, file, [{ file, field: '', message: code === 'ENOENT' ? 'file does not exist' : `cannot read: ${(err as Error).message}` }]);
  }
  return parseConfig(kind, text, file);
}
