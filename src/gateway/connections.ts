// Knows every client connection and request in flight, so close() can drain: stop accepting, let
// short requests finish, end watches cleanly (clients re-watch elsewhere), and cut the rest at the bound.
import type { ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { RequestContext } from './context.ts';
import { InFlightSet } from './in-flight-set.ts';

export class Connections {
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly inflight = new InFlightSet<RequestContext>();
  draining = false;
  #onIdle: (() => void) | undefined = undefined;

  addSocket(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  addSession(session: ServerHttp2Session): void {
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    if (this.draining) session.close();
  }

  requestStarted(ctx: RequestContext): void {
    this.inflight.add(ctx);
  }

  requestFinished(ctx: RequestContext): void {
    this.inflight.delete(ctx);
    if (!this.draining) return;
    // HTTP/1.1 keep-alive: the response is complete, so the connection can go.
    // (A socket already gone is detached from its request: nothing is left to end.)
    if (!('stream' in ctx.req) && ctx.upgrade === undefined) ctx.req.socket?.end();
    if (this.inflight.size === 0) this.#onIdle?.();
  }

  /** Starts draining; resolves when nothing is in flight or after `timeoutMs`, then cuts what is left. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    for (const session of this.#sessions) session.close(); // GOAWAY: open streams finish, no new ones
    const busy = new Set<unknown>();
    for (const ctx of this.inflight) {
      if (!('stream' in ctx.req)) busy.add(ctx.req.socket);
      if (ctx.longRunning && ctx.upgrade === undefined) ctx.upstream?.stop(true);
    }
    for (const socket of this.#sockets) {
      if (!busy.has(socket) && !this.#isHttp2(socket)) socket.end(); // idle keep-alive connection
    }
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    for (const ctx of this.inflight) ctx.upstream?.stop(false);
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
  }

  #isHttp2(socket: Socket): boolean {
    return (socket as Socket & { alpnProtocol?: string | false }).alpnProtocol === 'h2';
  }
}
