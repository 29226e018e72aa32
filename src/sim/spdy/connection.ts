// The server side of one SPDY/3.1 connection: every stream the client opens is answered with a SYN_REPLY
// and handed over as a Duplex (FIN ends it, RST_STREAM destroys it); PINGs are echoed. Like client-go's
// spdystream it keeps no flow-control windows: SETTINGS and WINDOW_UPDATE are read and ignored.
import { Duplex } from 'node:stream';
import {
  controlFrame,
  dataFrame,
  FLAG_FIN,
  GOAWAY,
  HEADERS,
  HeaderCodec,
  PING,
  RST_CANCEL,
  RST_STREAM,
  splitFrames,
  SYN_REPLY,
  SYN_STREAM,
  uint32s,
  type Frame,
  type HeaderBlock,
} from './frames.ts';

const maxFrameData = 64 * 1024;

export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: HeaderBlock;
  readonly #connection: SpdyConnection;
  #ended = false;
  /** Set when the client reset the stream, so no RST goes back. */
  resetByPeer = false;

  constructor(connection: SpdyConnection, id: number, headers: HeaderBlock) {
    super({ allowHalfOpen: true });
    this.#connection = connection;
    this.id = id;
    this.headers = headers;
  }

  header(name: string): string | undefined {
    return this.headers.get(name)?.[0];
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // A frame's length field has 24 bits; smaller frames also let other streams interleave.
    let sent: Promise<void> = Promise.resolve();
    for (let offset = 0; offset < chunk.length; offset += maxFrameData) {
      const part = chunk.subarray(offset, offset + maxFrameData);
      sent = this.#connection.send(() => dataFrame(this.id, 0, part));
    }
    sent.then(() => callback(), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#ended = true;
    this.#connection.send(() => dataFrame(this.id, FLAG_FIN, Buffer.alloc(0))).then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    if (!this.#ended && !this.#connection.closed && !this.resetByPeer) void this.#connection.send(() => controlFrame(RST_STREAM, 0, uint32s(this.id, RST_CANCEL)));
    this.#connection.forget(this.id);
    callback(err);
  }

  /** Data from the client. */
  deliver(data: Buffer, fin: boolean): void {
    if (data.length > 0) this.push(data);
    if (fin) this.push(null);
  }
}

export type StreamHandler = (stream: SpdyStream) => void;

export class SpdyConnection {
  readonly #socket: Duplex;
  readonly #codec = new HeaderCodec();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #onStream: StreamHandler;
  readonly #closeListeners: Array<() => void> = [];
  #writes: Promise<void> = Promise.resolve();
  #reads: Promise<void> = Promise.resolve();
  #pending: Buffer = Buffer.alloc(0);
  closed = false;

  constructor(socket: Duplex, onStream: StreamHandler) {
    this.#socket = socket;
    this.#onStream = onStream;
    socket.on('data', (chunk: Buffer) => {
      this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
      let frames: Frame[];
      try {
        ({ frames, rest: this.#pending } = splitFrames(this.#pending));
      } catch {
        this.close();
        return;
      }
      // Header blocks inflate asynchronously; frames are handled strictly in arrival order.
      for (const frame of frames) this.#reads = this.#reads.then(() => this.#handle(frame)).catch(() => this.close());
    });
    socket.on('end', () => void this.#reads.then(() => this.close()));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.#closeListeners.push(listener);
  }

  /** Queues one frame; frames leave in the order they were queued (a SYN_REPLY before its stream's data). */
  send(frame: () => Buffer | Promise<Buffer>): Promise<void> {
    const next = this.#writes.then(async () => {
      if (this.closed) return;
      const bytes = await frame();
      if (this.closed) return;
      await new Promise<void>((resolve) => this.#socket.write(bytes, () => resolve()));
    });
    this.#writes = next.catch(() => {});
    return next;
  }

  forget(id: number): void {
    this.#streams.delete(id);
  }

  /** Sends what is queued, then closes the connection. */
  finish(): void {
    void this.#writes.then(() => {
      this.#socket.end();
      this.close();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.#streams.values()]) stream.destroy();
    this.#streams.clear();
    this.#codec.close();
    this.#socket.destroy();
    for (const listener of this.#closeListeners.splice(0)) listener();
  }

  async #handle(frame: Frame): Promise<void> {
    if (this.closed) return;
    if (!frame.control) {
      this.#streams.get(frame.streamId)?.deliver(frame.data, (frame.flags & FLAG_FIN) !== 0);
      return;
    }
    const { payload } = frame;
    switch (frame.type) {
      case SYN_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.#codec.decode(payload.subarray(10));
        const stream = new SpdyStream(this, id, headers);
        this.#streams.set(id, stream);
        void this.send(async () => controlFrame(SYN_REPLY, 0, Buffer.concat([uint32s(id), await this.#codec.encode(new Map())])));
        if ((frame.flags & FLAG_FIN) !== 0) stream.deliver(Buffer.alloc(0), true);
        this.#onStream(stream);
        return;
      }
      case HEADERS:
        // Read only to keep the shared compression context in step.
        await this.#codec.decode(payload.subarray(4));
        return;
      case RST_STREAM: {
        const stream = this.#streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        if (stream !== undefined) {
          stream.resetByPeer = true;
          stream.destroy();
        }
        return;
      }
      case PING:
        void this.send(() => controlFrame(PING, 0, payload));
        return;
      case GOAWAY:
        this.finish();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, and anything newer: nothing to do without flow control.
        return;
    }
  }
}
