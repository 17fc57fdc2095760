// The Node row over HTTPS, alone and with every production option on (TLS,
// the metrics listener, a JSON access log): what they cost the request path
// and the core's memory (issue #21 asks for the RSS with them on).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { oursTarget, type OursEntry } from './ours.ts';
import type { RunningServer, StartOptions, Target } from './target.ts';
import { which } from './which.ts';

/** A self-signed P-256 certificate for 127.0.0.1 in `dir`, as an operator would make one with openssl. */
function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'bench-cert.pem');
  const key = join(dir, 'bench-key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

function tlsVariant(entry: OursEntry, id: string, label: string, production: boolean): Target {
  const shape = oursTarget('node', entry, production);
  return {
    ...shape,
    id,
    label,
    scheme: 'https',
    spawnsOnDemand: false,
    notes: `${shape.notes}; ssl on (self-signed P-256 certificate, HTTP/1.1 from wrk)${production ? ', access_log_format json to a file' : ''}`,
    async unavailable() { return which('openssl') ? undefined : 'openssl is not installed (it makes the certificate)'; },
    start(o: StartOptions): Promise<RunningServer> {
      const { cert, key } = makeCertificate(o.workDir);
      const args = ['--ssl', '--ssl-certificate', cert, '--ssl-certificate-key', key,
        ...(production ? ['--access-log', join(o.workDir, 'access.log'), '--access-log-format', 'json'] : [])];
      return oursTarget('node', entry, production, args).start(o);
    },
  };
}

/** `ours-node-tls` and `ours-node-production` (TLS, metrics listener and JSON access log). */
export function oursTlsTargets(entry: OursEntry): Target[] {
  return [
    tlsVariant(entry, 'ours-node-tls', 'passenger-ts node (TLS)', false),
    tlsVariant(entry, 'ours-node-production', 'passenger-ts node (TLS, metrics, JSON access log)', true),
  ];
}
