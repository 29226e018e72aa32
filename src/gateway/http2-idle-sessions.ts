// Closes HTTP/2 connections that have had no open stream for the idle timeout, as Go's HTTP/2 server
// (and so kube-apiserver) does: GOAWAY, then the socket. node:http2 has only an inactivity timeout
// (no frames at all), which would cut a quiet watch and spare a client that only sends PINGs. A
// stream open for as long as it likes (a watch) keeps its connection; the clock starts when the
// last stream closes. Without this every idle client connection was kept forever.
import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';

interface IdleState {
  open: number;
  /** Armed when the session opens and re-armed (refresh) each time its last stream closes. */
  timer: NodeJS.Timeout;
}

const state = Symbol('idle state');
type TrackedSession = ServerHttp2Session & { [state]?: IdleState };
type TrackedStream = ServerHttp2Stream & { [state]?: IdleState };

export class Http2IdleSessions {
  readonly #idleTimeoutMs: number;
  readonly #onIdle: (session: ServerHttp2Session) => void;

  /** `onIdle` is told before an idle session is closed (logs). idleTimeoutMs 0 = never close. */
  constructor(idleTimeoutMs: number, onIdle: (session: ServerHttp2Session) => void = () => undefined) {
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#onIdle = onIdle;
  }

  /** A new session starts idle: a client that connects and never asks for anything is closed too. */
  addSession(session: ServerHttp2Session): void {
    if (this.#idleTimeoutMs <= 0) return;
    const tracked = session as TrackedSession;
    const timer = setTimeout(() => this.#check(tracked), this.#idleTimeoutMs);
    timer.unref();
    tracked[state] = { open: 0, timer };
    session.once('close', () => clearTimeout(timer));
  }

  streamOpened(stream: ServerHttp2Stream): void {
    const idle = (stream.session as TrackedSession | undefined)?.[state];
    if (idle === undefined) return;
    idle.open++;
    // The stream keeps its session's state: node:http2 detaches a closed stream from its session.
    (stream as TrackedStream)[state] = idle;
    // `on`: 'close' comes once, and once() would wrap the shared listener in a closure per stream.
    stream.on('close', streamClosed);
  }

  #check(session: TrackedSession): void {
    if ((session[state]?.open ?? 1) > 0 || session.closed || session.destroyed) return; // re-armed when the last stream closes
    this.#onIdle(session);
    session.close(); // GOAWAY(NO_ERROR); a request racing it is retried by the client on a new connection
  }
}

// One function for every stream: nothing allocated per request.
function streamClosed(this: TrackedStream): void {
  const idle = this[state];
  if (idle === undefined) return;
  this[state] = undefined;
  if (--idle.open === 0) idle.timer.refresh();
}
