// The gateway's certificates followed on disk: the serving pair and the client CA go to the listener
// (new handshakes), the upstream pair and the shard CA to the shard connections (new connections).
// Each credential is followed on its own, so a broken CA file does not hold back a good serving pair;
// the listener and the upstream side each get the combination of what is good now. The admin listener's
// own pair and client CA are followed the same way, for its new handshakes.
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import { checkCertificateBundle, checkKeyPair, type ServingCredentials, type UpstreamCredentials } from '../gateway/tls-material.ts';
import { followCertificateFiles, registerCertificateMetrics, type CertificateLog } from './certificate-files.ts';
import type { GatewayConfig } from './gateway-config.ts';

export interface CertificateTargets {
  serving(tls: ServingCredentials): void;
  upstream(credentials: UpstreamCredentials): void;
  /** The admin listener, when there is one: its own pair (when it has one) and its client CA. */
  admin?: { serving(certPem: string, keyPem: string): void; clientCA(clientCAPem: string): void };
}

export interface FollowCertificatesOptions {
  registry: Registry;
  log: CertificateLog;
  debounceMs?: number;
}

export function followGatewayCertificates(config: Config<GatewayConfig>, targets: CertificateTargets, { registry, log, debounceMs }: FollowCertificatesOptions): { close(): void } {
  const metrics = registerCertificateMetrics(registry);
  const common = { log, metrics, ...(debounceMs === undefined ? {} : { debounceMs }) };
  const { tls, authentication, upstream: up } = config;
  let serving: ServingCredentials = {
    certPem: tls.cert,
    keyPem: tls.key,
    ...(authentication.clientCA === undefined ? {} : { clientCAPem: authentication.clientCA }),
  };
  let upstream: UpstreamCredentials = { clientCertPem: up.cert, clientKeyPem: up.key, ...(up.ca === undefined ? {} : { caPem: up.ca }) };
  const pair = ([cert, key]: readonly string[]) => ({ cert: cert ?? '', key: key ?? '', facts: checkKeyPair(cert ?? '', key ?? '') });
  const bundle = ([pem]: readonly string[]) => ({ value: pem ?? '', facts: checkCertificateBundle(pem ?? '') });

  const watches = [
    followCertificateFiles({
      ...common,
      name: 'serving',
      files: [tls.certFile, tls.keyFile],
      initial: [tls.cert, tls.key],
      check: (texts) => {
        const { cert, key, facts } = pair(texts);
        return { value: { certPem: cert, keyPem: key }, facts };
      },
      apply: (value) => targets.serving((serving = { ...serving, ...value })),
    }),
    followCertificateFiles({
      ...common,
      name: 'upstream-client',
      files: [up.certFile, up.keyFile],
      initial: [up.cert, up.key],
      check: (texts) => {
        const { cert, key, facts } = pair(texts);
        return { value: { clientCertPem: cert, clientKeyPem: key }, facts };
      },
      apply: (value) => targets.upstream((upstream = { ...upstream, ...value })),
    }),
  ];
  if (authentication.clientCAFile !== undefined && authentication.clientCA !== undefined) {
    watches.push(
      followCertificateFiles({
        ...common,
        name: 'client-ca',
        files: [authentication.clientCAFile],
        initial: [authentication.clientCA],
        check: bundle,
        apply: (clientCAPem) => targets.serving((serving = { ...serving, clientCAPem })),
      }),
    );
  }
  if (up.caFile !== undefined && up.ca !== undefined) {
    watches.push(
      followCertificateFiles({
        ...common,
        name: 'upstream-ca',
        files: [up.caFile],
        initial: [up.ca],
        check: bundle,
        apply: (caPem) => targets.upstream((upstream = { ...upstream, caPem })),
      }),
    );
  }
  const admin = config.admin;
  if (admin !== undefined && targets.admin !== undefined) {
    const target = targets.admin;
    // On the serving pair's files it follows the serving watch (run-gateway.ts); a pair of its own, here.
    if (admin.tls.certFile !== tls.certFile || admin.tls.keyFile !== tls.keyFile) {
      watches.push(
        followCertificateFiles({
          ...common,
          name: 'admin-serving',
          files: [admin.tls.certFile, admin.tls.keyFile],
          initial: [admin.tls.cert, admin.tls.key],
          check: (texts) => {
            const { cert, key, facts } = pair(texts);
            return { value: { cert, key }, facts };
          },
          apply: ({ cert, key }) => target.serving(cert, key),
        }),
      );
    }
    if (admin.clientCAFile !== undefined && admin.clientCA !== undefined) {
      watches.push(followCertificateFiles({ ...common, name: 'admin-client-ca', files: [admin.clientCAFile], initial: [admin.clientCA], check: bundle, apply: target.clientCA }));
    }
  }
  return { close: () => watches.forEach((w) => w.close()) };
}
