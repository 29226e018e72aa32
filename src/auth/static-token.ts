// Static bearer tokens from a CSV file in kube-apiserver's --token-auth-file format:
//   token,user,uid,"group1,group2"
// Meant for the dev stack, break-glass access and tests; the org realms carry real traffic.
import { readFile } from 'node:fs/promises';
import type { Authenticator, Credentials, Identity } from './identity.ts';

export class StaticTokenAuthenticator implements Authenticator {
  readonly #tokens: ReadonlyMap<string, Identity>;

  constructor(tokens: ReadonlyMap<string, Identity>) {
    this.#tokens = tokens;
  }

  /** Parses the CSV text; `source` names the file in errors. */
  static fromCsv(text: string, source = 'token file'): StaticTokenAuthenticator {
    return new StaticTokenAuthenticator(parseTokenCsv(text, source));
  }

  static async fromFile(path: string): Promise<StaticTokenAuthenticator> {
    return StaticTokenAuthenticator.fromCsv(await readFile(path, 'utf8'), path);
  }

  async authenticate(credentials: Credentials): Promise<Identity | undefined> {
    if (credentials.token === undefined) return undefined;
    // A token this file does not know may belong to the next authenticator (an org realm's JWT).
    return this.#tokens.get(credentials.token);
  }
}

export function parseTokenCsv(text: string, source: string): Map<string, Identity> {
  const tokens = new Map<string, Identity>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${source}:${index + 1}`;
    const fields = splitCsvLine(line, where);
    if (fields.length < 3) throw new Error(`${where}: expected token,user,uid[,"groups"], got ${fields.length} fields`);
    const [token, user, , groups] = fields as [string, string, string, string | undefined];
    if (token === '' || user === '') throw new Error(`${where}: token and user must not be empty`);
    const groupList =
      groups === undefined || groups === ''
        ? []
        : groups
            .split(',')
            .map((g) => g.trim())
            .filter((g) => g !== '');
    tokens.set(token, Object.freeze({ user, groups: Object.freeze(groupList) as string[], extra: Object.freeze({}) as Record<string, string[]> }));
  });
  return tokens;
}

/** One CSV record (RFC 4180 quoting: "a,b" and "" for a quote inside quotes). */
function splitCsvLine(line: string, where: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`${where}: unterminated quoted field`);
        const c = line[i]!;
        if (c === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += c;
        i++;
      }
      if (i < line.length && line[i] !== ',') throw new Error(`${where}: unexpected text after a quoted field`);
    } else {
      const end = line.indexOf(',', i);
      field = end === -1 ? line.slice(i) : line.slice(i, end);
      i = end === -1 ? line.length : end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}
