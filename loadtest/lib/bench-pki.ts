// Certificates for one bench run, made with the project's own PKI helper (real EC P-256, openssl).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';

export interface BenchPki {
  caFile: string;
  wrongCaFile: string;
  upstreamCertFile: string;
  upstreamKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export async function makeBenchPki(dir: string): Promise<BenchPki> {
  const ca = await createCertificateAuthority('kcp-edge bench CA');
  // Same subject, different key: only a proxy that checks the signature notices.
  const wrongCa = await createCertificateAuthority('kcp-edge bench CA');
  const upstream = await issueLoopbackServer(ca, 'shard-bench');
  const server = await issueLoopbackServer(ca, 'edge-bench');
  const client = await ca.issue({ commonName: 'kcp-edge-front-proxy', usage: 'client' });
  const files: Record<keyof BenchPki, [string, string]> = {
    caFile: ['ca.crt', ca.certPem],
    wrongCaFile: ['wrong-ca.crt', wrongCa.certPem],
    upstreamCertFile: ['upstream.crt', upstream.certPem],
    upstreamKeyFile: ['upstream.key', upstream.keyPem],
    serverCertFile: ['server.crt', server.certPem],
    serverKeyFile: ['server.key', server.keyPem],
    clientCertFile: ['client.crt', client.certPem],
    clientKeyFile: ['client.key', client.keyPem],
  };
  const out = {} as BenchPki;
  for (const [key, [name, pem]] of Object.entries(files) as [keyof BenchPki, [string, string]][]) {
    const path = join(dir, name);
    // Readable by nginx's unprivileged workers; the directory is the bench's own temp dir.
    await writeFile(path, pem, { mode: 0o644 });
    out[key] = path;
  }
  return out;
}
