// A bare SPDY/3.1 client for the stand-in's tests: upgrades a TLS connection, opens streams with headers,
// sends data and records every frame the server sends, header blocks decoded. Built on the shard's own
// frame codec, so it checks the server against the wire format, not against itself: the e2e tests drive
// real kubectl for that.
import { randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { controlFrame, dataFrame, FLAG_FIN, HeaderCodec, PING, splitFrames, SYN_REPLY, SYN_STREAM, uint32s, type Frame } from '../../../src/sim/spdy/frames.ts';
import type { SimShard } from '../../../src/sim/index.ts';

export interface Received {
  /** Stream ids that got a SYN_REPLY. */
  replied: number[];
  /** Data per stream, and whether the server finished it. */
  data: Map<number, { bytes: Buffer; fin: boolean }>;
  pings: number[];
}

export interface SpdyTestClient {
  /** The upgrade response head (status line and headers). */
  response: string;
  received: Received;
  open(id: number, headers: Record<string, string>): Promise<void>;
  send(id: number, data: Buffer | string, fin?: boolean): void;
  ping(id: number): void;
  socket: TLSSocket;
}

export async function spdyClient(shard: SimShard, path: string, protocols: string[]): Promise<SpdyTestClient> {
  const creds = await shard.issueClientCertificate('kcp-admin', ['system:masters']);
  const url = new URL(shard.url);
  const socket = connect({ host: url.hostname, port: Number(url.port), ca: shard.caPem, cert: creds.certPem, key: creds.keyPem, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${protocols.map((p) => `X-Stream-Protocol-Version: ${p}\r\n`).join('')}Content-Length: 0\r\n\r\n`,
  );
  const codec = new HeaderCodec();
  const received: Received = { replied: [], data: new Map(), pings: [] };
  let buffer: Buffer = Buffer.alloc(0);
  let response = '';
  let reads = Promise.resolve();
  const handle = async (frame: Frame) => {
    if (!frame.control) {
      const entry = received.data.get(frame.streamId) ?? { bytes: Buffer.alloc(0), fin: false };
      entry.bytes = Buffer.concat([entry.bytes, frame.data]);
      entry.fin ||= (frame.flags & FLAG_FIN) !== 0;
      received.data.set(frame.streamId, entry);
    } else if (frame.type === SYN_REPLY) {
      await codec.decode(frame.payload.subarray(4));
      received.replied.push(frame.payload.readUInt32BE(0));
    } else if (frame.type === PING) {
      received.pings.push(frame.payload.readUInt32BE(0));
    }
  };
  const responded = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (response === '') {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        response = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        resolve();
      }
      const { frames, rest } = splitFrames(buffer);
      buffer = rest;
      for (const frame of frames) reads = reads.then(() => handle(frame));
    });
  });
  socket.on('close', () => codec.close());
  await responded;
  return {
    response,
    received,
    socket,
    async open(id, headers) {
      const block = await codec.encode(new Map(Object.entries(headers).map(([k, v]) => [k, [v]])));
      socket.write(controlFrame(SYN_STREAM, 0, Buffer.concat([uint32s(id, 0), Buffer.from([0, 0]), block])));
    },
    send(id, data, fin = false) {
      const bytes = Buffer.from(data);
      const step = 64 * 1024;
      for (let offset = 0; offset < bytes.length || offset === 0; offset += step) {
        const last = offset + step >= bytes.length;
        socket.write(dataFrame(id, fin && last ? FLAG_FIN : 0, bytes.subarray(offset, offset + step)));
        if (last) break;
      }
    },
    ping(id) {
      socket.write(controlFrame(PING, 0, uint32s(id)));
    },
  };
}

/** The server's answer (status line and headers) to a WebSocket handshake offering one subprotocol. */
export async function rawWebSocketHandshake(shard: SimShard, path: string, protocol: string): Promise<string> {
  const creds = await shard.issueClientCertificate('kcp-admin', ['system:masters']);
  const url = new URL(shard.url);
  const socket = connect({ host: url.hostname, port: Number(url.port), ca: shard.caPem, cert: creds.certPem, key: creds.keyPem, ALPNProtocols: ['http/1.1'] });
  try {
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
    );
    let head = '';
    for await (const chunk of socket) {
      head += (chunk as Buffer).toString('latin1');
      if (head.includes('\r\n\r\n')) break;
    }
    return head.slice(0, head.indexOf('\r\n\r\n'));
  } finally {
    socket.destroy();
  }
}
