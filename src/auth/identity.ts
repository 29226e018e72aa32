// Who a request is, as the shard will be told through X-Remote-* headers.
import type { PeerCertificate } from 'node:tls';

export interface Identity {
  user: string;
  groups: string[];
  extra: Record<string, string[]>;
  /**
   * Who the credential named before the gateway's mapping (claim prefixes), for the audit log only;
   * absent when the mapping changed nothing. Never sent to a shard.
   */
  source?: { user: string; groups: string[] };
}

/** What an authenticator may look at; the auth stage extracts it from the request. */
export interface Credentials {
  /** Bearer token from Authorization or the WebSocket bearer subprotocol. */
  token: string | undefined;
  /** The verified client certificate, when the client presented one the gateway's client CA signed. */
  clientCertificate: PeerCertificate | undefined;
  /** Organisation named by the workspace path (first segment after root), undefined for non-workspace paths. */
  org: string | undefined;
  /** Canonical workspace path, e.g. root:org-acme:proj-frontend. */
  workspace: string | undefined;
  /**
   * The logical cluster a credential bound to one cluster (a service-account token) must belong to:
   * the addressed workspace's, or for an APIExport virtual workspace the export owner's. Undefined
   * when the workspace is unknown.
   */
  cluster?: string | undefined;
}

/**
 * Resolves credentials to an identity. Returns undefined when these credentials are not this
 * authenticator's to judge (no token, or a token of a kind it does not know), and throws a
 * GatewayError('UNAUTHORIZED') when they are its to judge and they fail.
 */
export interface Authenticator {
  authenticate(credentials: Credentials): Promise<Identity | undefined>;
  /**
   * What this authenticator can say at once, with no I/O and no promise: the identity these
   * credentials were already verified as (a verified token's, cached), or null when they are not
   * its to judge (authenticate() would give undefined). Undefined means "ask authenticate()", never
   * "refused".
   */
  verified?(credentials: Credentials): Identity | null | undefined;
  close?(): Promise<void>;
}
