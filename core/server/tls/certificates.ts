// Reads and checks ssl_certificate and ssl_certificate_key, so that a bad
// file fails at start (or at reload) with its name and the reason, instead
// of an OpenSSL error at the first handshake.
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { PassengerError } from '../../errors/passenger-error.ts';

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** For logs: the certificate's subject and expiry. */
  summary: string;
  /** Not fatal, but worth a log line (an expired certificate). */
  warnings: string[];
}

function fail(option: string, file: string, why: string): never {
  throw new PassengerError('PSG_ERR_TLS_CERTIFICATE', `${option} ${file}: ${why}`, { key: option, file });
}

function readPem(option: string, file: string, marker: RegExp, expected: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(option, file, 'no such file');
    if (code === 'EACCES') fail(option, file, `not readable by the server (uid ${process.getuid?.() ?? '?'}): permission denied`);
    if (code === 'EISDIR') fail(option, file, 'is a directory, not a file');
    fail(option, file, `cannot be read: ${(e as Error).message}`);
  }
  if (!marker.test(data.toString('latin1'))) fail(option, file, `is not in PEM format (expected a "-----BEGIN ${expected}-----" block)`);
  return data;
}

export function loadCredentials(certFile: string | undefined, keyFile: string | undefined): TlsCredentials {
  if (!certFile) throw new PassengerError('PSG_ERR_TLS_CERTIFICATE', 'ssl is on but ssl_certificate is not set', { key: 'ssl_certificate' });
  if (!keyFile) throw new PassengerError('PSG_ERR_TLS_CERTIFICATE', 'ssl is on but ssl_certificate_key is not set', { key: 'ssl_certificate_key' });
  const cert = readPem('ssl_certificate', certFile, /-----BEGIN CERTIFICATE-----/, 'CERTIFICATE');
  const key = readPem('ssl_certificate_key', keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'PRIVATE KEY');
  let x509: X509Certificate;
  try { x509 = new X509Certificate(cert); } catch (e) { fail('ssl_certificate', certFile, `is not a valid certificate: ${(e as Error).message}`); }
  let keyObject: KeyObject;
  try { keyObject = createPrivateKey(key); } catch (e) {
    const why = /passphrase/i.test((e as Error).message) ? 'is encrypted with a passphrase; give the server an unencrypted key' : `is not a valid private key: ${(e as Error).message}`;
    fail('ssl_certificate_key', keyFile, why);
  }
  if (!x509.checkPrivateKey(keyObject)) {
    fail('ssl_certificate_key', keyFile, `does not match the certificate in ${certFile} (ssl_certificate)`);
  }
  const warnings: string[] = [];
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() < Date.now()) warnings.push(`ssl_certificate ${certFile} expired on ${notAfter.toISOString()}; clients will refuse it`);
  return { cert, key, summary: `${x509.subject.replace(/\n/g, ', ')}, valid until ${notAfter.toISOString()}`, warnings };
}
