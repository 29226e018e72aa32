// Throwaway PKI for the gate probes: a CA, a second CA with the same name and another key, a serving
// certificate for 127.0.0.1, a client certificate from the CA and one from the other CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ssl = (args, cwd) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

function ca(dir, name) {
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=spike-ca', '-keyout', `${name}.key`, '-out', `${name}.crt`], dir);
}

function leaf(dir, name, caName, subj, ext) {
  ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), ext);
  ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
}

export function makePki() {
  const dir = mkdtempSync(join(tmpdir(), 'spike-pki-'));
  ca(dir, 'ca');
  ca(dir, 'wrong-ca');
  leaf(dir, 'server', 'ca', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf(dir, 'client', 'ca', '/O=developers/CN=alice', 'extendedKeyUsage=clientAuth\n');
  leaf(dir, 'intruder', 'wrong-ca', '/O=system:masters/CN=mallory', 'extendedKeyUsage=clientAuth\n');
  const read = (f) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    ca: read('ca.crt'),
    server: { cert: read('server.crt'), key: read('server.key') },
    client: { cert: read('client.crt'), key: read('client.key') },
    intruder: { cert: read('intruder.crt'), key: read('intruder.key') },
  };
}
