// Real X.509 material for the stand-in shards, the dev stack and the tests. openssl does the crypto
// (EC P-256, fast to generate); this module only decides subjects and extensions.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** Subject O= entries; Kubernetes reads them as the groups of a client certificate. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'both';
  days?: number;
}

export interface CertificateAuthority extends KeyPair {
  issue(options: IssueOptions): Promise<KeyPair>;
}

function subject(commonName: string, organizations: string[] = []): string {
  const escape = (value: string) => value.replace(/[\\/=+]/g, (c) => `\\${c}`);
  return [...organizations.map((o) => `/O=${escape(o)}`), `/CN=${escape(commonName)}`].join('');
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-pki-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args);
}

async function generateKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

export async function createCertificateAuthority(commonName: string, { days = 365 }: { days?: number } = {}): Promise<CertificateAuthority> {
  const pair = await inTempDir(async (dir) => {
    const key = join(dir, 'ca.key');
    const cert = join(dir, 'ca.crt');
    await generateKey(key);
    await openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      subject(commonName),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
  });
  return { ...pair, issue: (options) => issue(pair, options) };
}

async function issue(ca: KeyPair, options: IssueOptions): Promise<KeyPair> {
  return inTempDir(async (dir) => {
    const files = {
      caCert: join(dir, 'ca.crt'),
      caKey: join(dir, 'ca.key'),
      key: join(dir, 'leaf.key'),
      csr: join(dir, 'leaf.csr'),
      cert: join(dir, 'leaf.crt'),
      ext: join(dir, 'leaf.ext'),
    };
    await writeFile(files.caCert, ca.certPem);
    await writeFile(files.caKey, ca.keyPem, { mode: 0o600 });
    await generateKey(files.key);
    await openssl(['req', '-new', '-key', files.key, '-out', files.csr, '-subj', subject(options.commonName, options.organizations)]);
    const extendedUsage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[options.usage];
    const altNames = [...(options.dnsNames ?? []).map((d) => `DNS:${d}`), ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${extendedUsage}`,
      ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
    ];
    await writeFile(files.ext, ext.join('\n') + '\n');
    await openssl([
      'x509',
      '-req',
      '-in',
      files.csr,
      '-CA',
      files.caCert,
      '-CAkey',
      files.caKey,
      '-CAcreateserial',
      '-out',
      files.cert,
      '-days',
      String(options.days ?? 365),
      '-extfile',
      files.ext,
      '-sha256',
    ]);
    return { certPem: await readFile(files.cert, 'utf8'), keyPem: await readFile(files.key, 'utf8') };
  });
}

/** Server certificate valid for every name a loopback test or the dev stack reaches a server by. */
export function issueLoopbackServer(ca: CertificateAuthority, commonName: string): Promise<KeyPair> {
  return ca.issue({ commonName, usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
}
