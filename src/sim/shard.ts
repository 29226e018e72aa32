// startShard: one stand-in KCP shard (or plain Kubernetes cluster) serving HTTPS with mTLS on loopback,
// HTTP/2 and HTTP/1.1 on one port as kube-apiserver does.
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { AuthConfig } from './authenticate.ts';
import { issueCached } from './cert-cache.ts';
import { cancelHandlersOnReset, goResetTolerance } from './go-http2-server.ts';
import { createApiClient, type ApiClient } from './client.ts';
import { startCoreControllers } from './controllers.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { createObject } from './objects.ts';
import { createCertificateAuthority, type CertificateAuthority, type KeyPair } from './pki.ts';
import type { ShardServices, UpgradeHandler } from './plugin.ts';
import { shardPlugins } from './plugins.ts';
import { route, type ViewResolver } from './router.ts';
import { publishShard } from './shard-objects.ts';
import { createServiceAccountSigner, type ServiceAccountSigner } from './service-account-tokens.ts';
import { logicalClusterGR, now, pathAnnotation, ShardState, type PeerShard } from './shard-state.ts';

export interface StartShardOptions {
  name: string;
  /** 'kubernetes' = a plain cluster without /clusters/, for the sync worker's service cluster. */
  mode?: 'kcp' | 'kubernetes';
  host?: string;
  port?: number;
  /** Serving and client CA; generated when absent. Shards of one stack share it. */
  ca?: CertificateAuthority;
  /** PEM of the CA whose client certificates may assert identity with X-Remote-User/-Group/-Extra-*. */
  requestHeaderCA?: string;
  /** CNs allowed to use requestheader authentication (empty = any certificate of that CA). */
  requestHeaderAllowedNames?: string[];
  /** Shard labels matched by a Workspace's spec.location.selector; default `{ name: <name> }`. */
  labels?: Record<string, string>;
  /** The other shards of the stack (more can be added later with addPeer or connectShards). */
  peers?: PeerShard[];
  /** Watch history kept before a watch from an older resourceVersion gets 410 Expired. */
  historySize?: number;
  /** Called with one line per finished request (`GET /clusters/root/api/v1/namespaces 200 3ms user`). */
  log?: (line: string) => void;
  /** How often watches asking for bookmarks get one (kube-apiserver: about a minute). */
  bookmarkIntervalMs?: number;
  /**
   * `iss` of the service-account tokens it issues; default its own URL, where it serves the issuer's
   * discovery (/.well-known/openid-configuration) and keys (/openid/v1/jwks). Each shard signs with a
   * key of its own.
   */
  serviceAccountIssuer?: string;
  /**
   * kube-apiserver's --authorization-mode. RBAC enforces Roles, ClusterRoles and their bindings in every
   * logical cluster, and kcp's rule that only who may `access` a workspace enters it. AlwaysAllow (the
   * default) lets every authenticated caller do anything.
   */
  authorization?: 'RBAC' | 'AlwaysAllow';
  /**
   * kcp's external URL: the address clients reach workspaces at, reported in a Workspace's spec.URL
   * (`<externalURL>/clusters/<path>`). A front door's URL in front of shards; by default the URL of the shard holding the workspace.
   */
  externalURL?: string;
}

export interface SimShard extends PeerShard {
  name: string;
  url: string;
  caPem: string;
  labels: Record<string, string>;
  mode: 'kcp' | 'kubernetes';
  issueClientCertificate(user: string, groups?: string[]): Promise<KeyPair>;
  /** kubeconfig YAML; admin (system:masters) by default, server on the root cluster (or the given cluster/path). */
  kubeconfig(options?: { cluster?: string; user?: string; groups?: string[] }): Promise<string>;
  /** An HTTPS client for this shard's API as the given user (admin by default). */
  client(options?: { user?: string; groups?: string[] }): Promise<ApiClient>;
  addPeer(peer: PeerShard): void;
  /** The issuer of the service-account tokens it issues, and its public key (PEM). */
  readonly serviceAccountIssuer: string;
  serviceAccountPublicKey(): Promise<string>;
  /** Whether it is serving now (false between stop() and start()). */
  readonly serving: boolean;
  /**
   * Goes down as a crashed or restarted server does: listener closed, every connection cut, controllers
   * stopped. The objects stay, as etcd keeps them; clients made by client() stay usable.
   */
  stop(): Promise<void>;
  /**
   * Comes back on the same address with the same objects. What a restarted server rebuilds starts over:
   * the watch history (a watch from an older resourceVersion gets 410 and re-lists) and what the
   * controllers derive (kinds bound or defined are served again once they have caught up).
   */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Go's http2.Server default, which kube-apiserver keeps. */
export const maxConcurrentStreams = 250;

export async function startShard(options: StartShardOptions): Promise<SimShard> {
  const mode = options.mode ?? 'kcp';
  const ca = options.ca ?? (await createCertificateAuthority(`${options.name}-ca`));
  const servingCert = await issueCached(ca, { commonName: options.name, usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
  const peers: PeerShard[] = [...(options.peers ?? [])];
  const labels = options.labels ?? { name: options.name };
  const state = new ShardState(
    { name: options.name, mode, labels, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, peers: () => peers, authorization: options.authorization ?? 'AlwaysAllow' },
    options.historySize ?? 10_000,
  );
  const auth: AuthConfig = {
    clientCA: new X509Certificate(ca.certPem),
    ...(options.requestHeaderCA !== undefined ? { requestHeaderCA: new X509Certificate(options.requestHeaderCA) } : {}),
    requestHeaderAllowedNames: options.requestHeaderAllowedNames ?? [],
  };

  let views: ViewResolver | undefined;
  let upgrades: UpgradeHandler[] = [];
  const host = options.host ?? '127.0.0.1';

  /** The serving half of the shard: what a process restart ends and starts again. */
  async function listen(port: number): Promise<{ server: Http2SecureServer; sockets: Set<Socket>; port: number }> {
    const server = createSecureServer(
      {
        cert: servingCert.certPem,
        key: servingCert.keyPem,
        ca: [ca.certPem, ...(options.requestHeaderCA !== undefined ? [options.requestHeaderCA] : [])],
        requestCert: true,
        rejectUnauthorized: false,
        // A Go server (kube-apiserver, kcp) picks h2 by its own ALPN preference and allows 250 streams
        // per connection; upgrades (exec, port-forward, WebSocket) still arrive over HTTP/1.1.
        allowHTTP1: true,
        settings: { maxConcurrentStreams: maxConcurrentStreams },
        ...goResetTolerance,
      },
      (req, res) => {
        const log = options.log;
        if (log !== undefined) {
          const started = Date.now();
          res.on('finish', () => log(`${req.method ?? ''} ${req.url ?? ''} ${res.statusCode} ${Date.now() - started}ms`));
        }
        // The router reads and writes only what HTTP/1.1's objects and HTTP/2's compatibility objects share.
        void route(state, auth, views, req as unknown as IncomingMessage, res as unknown as ServerResponse);
      },
    );
    cancelHandlersOnReset(server);
    // Watches and exec sessions are long-lived by design: no idle timeouts. kube-apiserver keeps an idle
    // connection 90 s (its IdleTimeout); Node's default of 5 s made clients reconnect, a TLS handshake on
    // both sides, after every lull. The HTTP/1.1 half reads these from the server as https.Server does.
    Object.assign(server, { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 90_000 });
    // Every connection, HTTP/2 or not, so that stop() cuts them all as a crash would.
    const sockets = new Set<Socket>();
    const track = (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    };
    // The raw connection too: one still in its TLS handshake would otherwise hold close() open.
    server.on('connection', track);
    server.on('secureConnection', track);
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      for (const handle of upgrades) if (handle(state, auth, req, socket, head)) return;
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nunsupported upgrade\n');
    });
    server.listen(port, host);
    await once(server, 'listening');
    return { server, sockets, port: (server.address() as AddressInfo).port };
  }

  let running: Awaited<ReturnType<typeof listen>> | undefined = await listen(options.port ?? 0);
  const port = running.port;
  state.url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  state.externalURL = (options.externalURL ?? '').replace(/\/+$/, '');

  const serviceAccountIssuer = options.serviceAccountIssuer ?? state.url;
  let signer: Promise<ServiceAccountSigner> | undefined;
  state.serviceAccountSigner = () => (signer ??= createServiceAccountSigner(serviceAccountIssuer));
  seed(state);
  for (const shard of [{ name: options.name, url: state.url, labels }, ...peers]) publishShard(state, shard);
  let admin: Promise<KeyPair> | undefined;
  const adminCredentials = () => (admin ??= issueCached(ca, { commonName: `system:kcp:shard:${options.name}`, organizations: ['system:masters'], usage: 'client' }));
  const peerClients = new Map<string, Promise<ApiClient>>();
  const services: ShardServices = {
    peerClient: (url) => {
      let client = peerClients.get(url);
      if (client === undefined) peerClients.set(url, (client = adminCredentials().then((creds) => createApiClient(url, ca.certPem, creds))));
      return client;
    },
    setViewResolver: (resolver) => (views = resolver),
    onUpgrade: (handler) => upgrades.push(handler),
  };
  const startControllers = () => {
    views = undefined;
    upgrades = [];
    return [startCoreControllers(state), ...shardPlugins.map((p) => p.start(state, services))];
  };
  let stops = startControllers();
  let restarts = 0;

  async function stopServing(): Promise<void> {
    const current = running;
    if (current === undefined) return;
    running = undefined;
    // Connections first, as a crash cuts them: a watch must not see its controllers end it cleanly, and
    // closing an HTTP/2 server would first send its sessions a graceful GOAWAY.
    for (const socket of current.sockets) socket.destroy();
    for (const stop of stops) stop();
    stops = [];
    const closed = once(current.server, 'close');
    current.server.close();
    await closed;
  }

  const issueClientCertificate = (user: string, groups: string[] = []) => issueCached(ca, { commonName: user, organizations: groups, usage: 'client' });
  const clients: ApiClient[] = [];
  let closing: Promise<void> | undefined;
  return {
    name: options.name,
    url: state.url,
    caPem: ca.certPem,
    labels,
    mode,
    issueClientCertificate,
    async kubeconfig({ cluster, user = 'kcp-admin', groups = user === 'kcp-admin' ? ['system:masters'] : [] } = {}) {
      const credentials = await issueClientCertificate(user, groups);
      const server = mode === 'kcp' ? `${state.url}/clusters/${cluster ?? 'root'}` : state.url;
      return renderKubeconfig({ name: `${options.name}${cluster !== undefined ? `-${cluster.replace(/:/g, '-')}` : ''}`, server, caPem: ca.certPem, credentials, user });
    },
    async client({ user = 'kcp-admin', groups = user === 'kcp-admin' ? ['system:masters'] : [] } = {}) {
      const client = createApiClient(state.url, ca.certPem, await issueClientCertificate(user, groups));
      clients.push(client);
      return client;
    },
    serviceAccountIssuer,
    serviceAccountPublicKey: async () => (await state.serviceAccountSigner!()).publicKeyPem,
    addPeer(peer) {
      if (peer.url === state.url || peers.some((p) => p.url === peer.url)) return;
      peers.push(peer);
      publishShard(state, peer);
    },
    get serving() {
      return running !== undefined;
    },
    stop() {
      return closing ?? stopServing();
    },
    async start() {
      if (running !== undefined || closing !== undefined) return;
      recordStart(state, ++restarts);
      state.restart();
      stops = startControllers();
      try {
        running = await listen(port);
      } catch (err) {
        for (const stop of stops) stop();
        stops = [];
        throw err;
      }
    },
    close() {
      return (closing ??= shutdown());
    },
  };

  async function shutdown(): Promise<void> {
    for (const client of clients) client.close();
    for (const client of peerClients.values())
      void client.then(
        (c) => c.close(),
        () => undefined,
      );
    await stopServing();
  }
}

/**
 * A restarted server finds its store moved on: in a real cluster leases, events and status writes never
 * stop, so a client's last resourceVersion is behind the new watch history and it gets 410. An Event
 * in `default` stands for those writes.
 */
function recordStart(state: ShardState, count: number): void {
  createObject(
    state,
    'root',
    state.builtinType('', 'events'),
    {
      metadata: { name: `${state.settings.name}.restart-${count}` },
      involvedObject: { kind: 'Namespace', name: 'default' },
      reason: 'Starting',
      message: `${state.settings.name} restarted (${count})`,
      type: 'Normal',
    },
    'default',
  );
}

/** Makes every shard a peer of every other: the dev stack's shards all know each other. */
export function connectShards(...shards: SimShard[]): void {
  for (const a of shards) for (const b of shards) if (a !== b) a.addPeer(b);
}

function seed(state: ShardState): void {
  if (state.kcp) {
    state.store.put('root', logicalClusterGR, {
      apiVersion: 'core.kcp.io/v1alpha1',
      kind: 'LogicalCluster',
      metadata: { name: 'cluster', uid: crypto.randomUUID(), creationTimestamp: now(), annotations: { [pathAnnotation]: 'root', 'kcp.io/cluster': 'root' } },
      spec: {},
      status: { phase: 'Ready', URL: `${state.url}/clusters/root` },
    });
    createObject(state, 'root', state.builtinType('', 'namespaces'), { metadata: { name: 'default' } }, '');
    createObject(state, 'root', state.builtinType('', 'serviceaccounts'), { metadata: { name: 'default' } }, 'default');
    return;
  }
  for (const name of ['default', 'kube-system', 'kube-public']) {
    createObject(state, 'root', state.builtinType('', 'namespaces'), { metadata: { name } }, '');
    // Seeded before the controllers start, so the namespace controller would not see them.
    createObject(state, 'root', state.builtinType('', 'serviceaccounts'), { metadata: { name: 'default' } }, name);
  }
}
