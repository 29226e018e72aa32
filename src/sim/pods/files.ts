// A pod's filesystem: absolute paths to files and directories, enough for `kubectl cp` (tar both ways),
// `test -d` and `cat`. Paths are normalised the way a shell would, without symlinks.

export interface FileEntry {
  type: 'file' | 'dir';
  data: Buffer;
  mode: number;
  mtime: Date;
}

export function normalise(path: string, cwd = '/'): string {
  const parts: string[] = [];
  for (const part of (path.startsWith('/') ? path : `${cwd}/${path}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

export class PodFiles {
  readonly #entries = new Map<string, FileEntry>();

  constructor(hostname: string) {
    for (const dir of ['/', '/bin', '/etc', '/root', '/tmp', '/var', '/var/log']) this.mkdir(dir);
    this.writeFile('/etc/hostname', Buffer.from(`${hostname}\n`));
  }

  get(path: string): FileEntry | undefined {
    return this.#entries.get(normalise(path));
  }

  mkdir(path: string, mode = 0o755): void {
    const p = normalise(path);
    if (p !== '/' && this.#entries.get(parentOf(p))?.type !== 'dir') this.mkdir(parentOf(p));
    if (this.#entries.get(p)?.type !== 'dir') this.#entries.set(p, { type: 'dir', data: Buffer.alloc(0), mode, mtime: new Date() });
  }

  /** Fails (returns false) when the parent directory does not exist, as open(2) does. */
  writeFile(path: string, data: Buffer, mode = 0o644, mtime = new Date()): boolean {
    const p = normalise(path);
    if (this.#entries.get(parentOf(p))?.type !== 'dir' || this.#entries.get(p)?.type === 'dir') return false;
    this.#entries.set(p, { type: 'file', data, mode, mtime });
    return true;
  }

  /** The path and everything under it, parents first. */
  walk(path: string): Array<[string, FileEntry]> {
    const p = normalise(path);
    const prefix = p === '/' ? '/' : `${p}/`;
    return [...this.#entries].filter(([name]) => name === p || name.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
  }
}
