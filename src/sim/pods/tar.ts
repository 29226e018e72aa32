// The ustar subset `kubectl cp` exchanges with a container's `tar`: regular files and directories, with
// GNU long names and pax `path` records read (Go's archive/tar writes those for long names). Written
// with Node built-ins: the archives are small and whole in memory.

export interface TarEntry {
  name: string;
  type: 'file' | 'dir';
  mode: number;
  mtime: Date;
  data: Buffer;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, entry: TarEntry, size: number, typeflag: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write(octal(entry.mode & 0o7777, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(Math.floor(entry.mtime.getTime() / 1000), 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(typeflag, 156, 'latin1');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.write('root', 265, 'latin1');
  block.write('root', 297, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, Buffer.alloc(BLOCK - rest)];
}

export function createTar(entries: TarEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const entry of entries) {
    const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
    if (Buffer.byteLength(name) > 100) {
      // GNU long name: a pseudo-entry carrying the name, then the entry with a cut one.
      const long = Buffer.from(`${name}\0`);
      out.push(header('././@LongLink', entry, long.length, 'L'), ...padded(long));
    }
    const data = entry.type === 'file' ? entry.data : Buffer.alloc(0);
    out.push(header(name, entry, data.length, entry.type === 'dir' ? '5' : '0'), ...padded(data));
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function number(block: Buffer, offset: number, length: number): number {
  if ((block[offset]! & 0x80) !== 0) {
    // base-256, for values that do not fit in octal
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  return parseInt(field(block, offset, length).trim() || '0', 8);
}

function paxPath(data: Buffer): string | undefined {
  for (const record of data.toString('utf8').split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(record);
    if (m) return m[1];
  }
  return undefined;
}

export class TarFormatError extends Error {}

export function extractTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let nextName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    const size = number(block, 124, 12);
    const typeflag = String.fromCharCode(block[156]!);
    const data = archive.subarray(offset + BLOCK, offset + BLOCK + size);
    if (data.length < size) throw new TarFormatError('unexpected EOF');
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    const prefix = field(block, 345, 155);
    const name = nextName ?? (prefix === '' ? field(block, 0, 100) : `${prefix}/${field(block, 0, 100)}`);
    if (typeflag === 'L') {
      nextName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (typeflag === 'x') {
      nextName = paxPath(data) ?? nextName;
      continue;
    }
    nextName = undefined;
    if (typeflag === 'g') continue;
    const type = typeflag === '5' ? 'dir' : typeflag === '0' || typeflag === '\0' ? 'file' : undefined;
    if (type === undefined) continue;
    entries.push({ name, type, mode: number(block, 100, 8), mtime: new Date(number(block, 136, 12) * 1000), data: Buffer.from(data) });
  }
  return entries;
}
