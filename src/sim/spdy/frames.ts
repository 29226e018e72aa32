// SPDY/3.1 framing, the part client-go's spdystream speaks: control frames (SYN_STREAM, SYN_REPLY,
// RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE) and data frames, with header blocks compressed
// by one zlib stream per direction for the whole connection, primed with the SPDY/3 dictionary.
// Written by hand: the npm package that frames SPDY (spdy-transport) is the engine of node-spdy's HTTP
// server, with six dependencies and push/priority/HTTP semantics kube's streams never use; the part
// client-go needs is these few frames.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { spdyHeaderDictionary } from './dictionary.ts';

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;
export const FLAG_FIN = 0x01;
/** RST_STREAM status for a stream the server gives up on. */
export const RST_CANCEL = 5;

export type Frame = { control: false; streamId: number; flags: number; data: Buffer } | { control: true; type: number; flags: number; payload: Buffer };

export class SpdyProtocolError extends Error {}

/** Splits bytes into frames; returns the frames and the bytes of an unfinished one. */
export function splitFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let offset = 0;
  while (buffer.length - offset >= 8) {
    const length = buffer.readUInt32BE(offset + 4) & 0xffffff;
    if (buffer.length - offset < 8 + length) break;
    const flags = buffer[offset + 4]!;
    const body = buffer.subarray(offset + 8, offset + 8 + length);
    if ((buffer[offset]! & 0x80) !== 0) {
      const version = buffer.readUInt16BE(offset) & 0x7fff;
      if (version !== 3) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
      frames.push({ control: true, type: buffer.readUInt16BE(offset + 2), flags, payload: body });
    } else {
      frames.push({ control: false, streamId: buffer.readUInt32BE(offset) & 0x7fffffff, flags, data: body });
    }
    offset += 8 + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

export function uint32s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, i * 4));
  return out;
}

export type HeaderBlock = Map<string, string[]>;

function encodeHeaderBlock(headers: HeaderBlock): Buffer {
  const parts: Buffer[] = [uint32s(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(uint32s(n.length), n, uint32s(v.length), v);
  }
  return Buffer.concat(parts);
}

function decodeHeaderBlock(block: Buffer): HeaderBlock {
  const headers: HeaderBlock = new Map();
  const need = (offset: number, n: number) => {
    if (offset + n > block.length) throw new SpdyProtocolError('truncated header block');
  };
  need(0, 4);
  const count = block.readUInt32BE(0);
  let offset = 4;
  for (let i = 0; i < count; i++) {
    need(offset, 4);
    const nameLength = block.readUInt32BE(offset);
    need(offset + 4, nameLength + 4);
    const name = block.toString('utf8', offset + 4, offset + 4 + nameLength);
    offset += 4 + nameLength;
    const valueLength = block.readUInt32BE(offset);
    need(offset + 4, valueLength);
    const value = block.toString('utf8', offset + 4, offset + 4 + valueLength);
    offset += 4 + valueLength;
    headers.set(name, value.split('\0'));
  }
  return headers;
}

/** Runs one input through a long-lived zlib stream with a sync flush and collects what came out. */
function syncFlush(stream: Deflate | Inflate, sink: Buffer[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(new SpdyProtocolError(`header compression: ${err.message}`));
    stream.once('error', fail);
    stream.write(input);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('error', fail);
      resolve(Buffer.concat(sink.splice(0)));
    });
  });
}

/** The connection's two header compression contexts. Calls must be serialized per direction. */
export class HeaderCodec {
  readonly #inflater = createInflate({ dictionary: spdyHeaderDictionary });
  readonly #deflater = createDeflate({ dictionary: spdyHeaderDictionary, level: constants.Z_BEST_COMPRESSION });
  readonly #inflated: Buffer[] = [];
  readonly #deflated: Buffer[] = [];

  constructor() {
    this.#inflater.on('data', (chunk: Buffer) => this.#inflated.push(chunk));
    this.#deflater.on('data', (chunk: Buffer) => this.#deflated.push(chunk));
    // Errors surface through syncFlush; a stray one after close must not crash the shard.
    this.#inflater.on('error', () => {});
    this.#deflater.on('error', () => {});
  }

  async decode(compressed: Buffer): Promise<HeaderBlock> {
    return decodeHeaderBlock(await syncFlush(this.#inflater, this.#inflated, compressed));
  }

  encode(headers: HeaderBlock): Promise<Buffer> {
    return syncFlush(this.#deflater, this.#deflated, encodeHeaderBlock(headers));
  }

  close(): void {
    this.#inflater.destroy();
    this.#deflater.destroy();
  }
}
