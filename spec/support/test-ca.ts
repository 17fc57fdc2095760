// A throwaway certificate authority made with the real openssl, and server
// certificates it signs for localhost and 127.0.0.1, so TLS specs can use a
// real client (curl, node) that verifies the chain.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caCert: string;
  /** Signs a certificate for localhost and 127.0.0.1 with this common name; returns the cert and key paths. */
  issue(commonName: string): { cert: string; key: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'psg-ca-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=passenger spec CA'], dir);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  let serial = 1;
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    issue(commonName) {
      const base = `server-${serial}`;
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${commonName}`], dir);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial++), '-out', `${base}.pem`, '-days', '2', '-extfile', 'san.cnf'], dir);
      return { cert: join(dir, `${base}.pem`), key: join(dir, `${base}.key`) };
    },
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}
