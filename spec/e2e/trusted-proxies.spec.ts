// trusted_proxies: X-Forwarded-* from a trusted peer reach the app (For with
// the peer appended); from any other peer they are replaced (HTTP apps) or
// dropped (session-protocol apps). Behind a real TLS-terminating nginx, a real
// Express app with `trust proxy` sees https and the host the client asked for.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { join } from 'node:path';
import getPort from 'get-port';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { waitFor } from '../core/admin/instance-helpers.ts';
import { startNginx, type RunningNginx } from '../support/nginx.ts';

const expressApp = fixtureApp('node-express-proxy');
const wsgiApp = fixtureApp('wsgi-forwarded');

interface WhoAmI { protocol: string; secure: boolean; hostname: string; ip: string; ips: string[]; forwardedFor?: string; forwardedProto?: string; forwardedHost?: string }

/** What a client forges (or a load balancer in front says). */
const claims = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'shop.example', 'X-Forwarded-For': '203.0.113.7' };

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const r = await fetch(url, { headers });
  expect(r.status, await r.clone().text()).to.equal(200);
  return (await r.json()) as T;
}

function httpsGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, headers, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('trusted_proxies', function () {
  this.timeout(120000);

  describe('behind a TLS-terminating nginx on loopback (the default trusted_proxies)', () => {
    let p: RunningPassenger | undefined;
    let nginx: RunningNginx | undefined;
    let tlsPort = 0;

    before(async () => {
      p = await startPassenger(expressApp);
      tlsPort = await getPort({ host: '127.0.0.1' });
      const appPort = p.port;
      nginx = startNginx((prefix) => {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=shop.example',
          '-keyout', join(prefix, 'key.pem'), '-out', join(prefix, 'cert.pem')], { stdio: 'ignore' });
        return `
    server {
        listen 127.0.0.1:${tlsPort} ssl;
        server_name shop.example;
        ssl_certificate ${prefix}/cert.pem;
        ssl_certificate_key ${prefix}/key.pem;
        location / {
            proxy_pass http://127.0.0.1:${appPort};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
`;
      });
      await waitFor(async () => {
        if (nginx!.exited()) throw new Error(`nginx exited: ${nginx!.output()}`);
        return httpsGet(tlsPort, '/whoami', { Host: 'shop.example' }).then(() => true, () => false);
      }, 15000, 'nginx to listen');
    });

    after(async () => {
      await nginx?.stop();
      await stopAndClean(p);
    });

    it('gives an Express app with trust proxy req.protocol https, the forwarded host and the client address', async () => {
      const r = await httpsGet(tlsPort, '/whoami', { Host: 'shop.example', 'X-Forwarded-For': '198.51.100.4' });
      expect(r.status, r.body).to.equal(200);
      const me = JSON.parse(r.body) as WhoAmI;
      expect(me).to.deep.include({ protocol: 'https', secure: true, hostname: 'shop.example', ip: '198.51.100.4', forwardedProto: 'https', forwardedHost: 'shop.example' });
      // The client's claim, nginx's peer (the client, on loopback), then nginx itself as seen by the core.
      expect(me.forwardedFor).to.equal('198.51.100.4, 127.0.0.1, 127.0.0.1');
    });

    it('keeps a loopback client\'s own X-Forwarded-* too (loopback is trusted by default), appending it to the For list', async () => {
      const me = await getJson<WhoAmI>(`${p!.url}/whoami`, claims);
      expect(me).to.deep.include({ protocol: 'https', hostname: 'shop.example', ip: '203.0.113.7', forwardedFor: '203.0.113.7, 127.0.0.1' });
    });
  });

  describe('from a peer that is not in trusted_proxies', () => {
    let p: RunningPassenger | undefined;
    before(async () => { p = await startPassenger(expressApp, { args: ['--trusted-proxies', '10.9.9.9,fd00::/8'] }); });
    after(async () => { await stopAndClean(p); });

    it('replaces a forged X-Forwarded-Proto, -Host and -For: Express sees plain http, the real host and the real peer', async () => {
      const me = await getJson<WhoAmI>(`${p!.url}/whoami`, claims);
      expect(me).to.deep.include({
        protocol: 'http', secure: false, hostname: '127.0.0.1', ip: '127.0.0.1',
        forwardedFor: '127.0.0.1', forwardedProto: 'http', forwardedHost: `127.0.0.1:${p!.port}`,
      });
    });
  });

  describe('for a session-protocol (WSGI) app', () => {
    let trusted: RunningPassenger | undefined;
    let untrusted: RunningPassenger | undefined;
    before(async () => {
      [trusted, untrusted] = await Promise.all([startPassenger(wsgiApp), startPassenger(wsgiApp, { args: ['--trusted-proxies', '192.0.2.1'] })]);
    });
    after(async () => { await stopAndClean(trusted); await stopAndClean(untrusted); });

    it('passes a trusted proxy\'s X-Forwarded-* on, with the proxy appended to the For list', async () => {
      const env = await getJson<Record<string, string | null>>(`${trusted!.url}/`, claims);
      expect(env).to.deep.include({ REMOTE_ADDR: '127.0.0.1', HTTP_X_FORWARDED_FOR: '203.0.113.7, 127.0.0.1', HTTP_X_FORWARDED_PROTO: 'https', HTTP_X_FORWARDED_HOST: 'shop.example' });
    });

    it('drops them from any other peer: REMOTE_ADDR and HTTP_HOST tell the truth', async () => {
      const env = await getJson<Record<string, string | null>>(`${untrusted!.url}/`, claims);
      expect(env).to.deep.include({ REMOTE_ADDR: '127.0.0.1', HTTP_HOST: `127.0.0.1:${untrusted!.port}`, HTTP_X_FORWARDED_FOR: null, HTTP_X_FORWARDED_PROTO: null, HTTP_X_FORWARDED_HOST: null, 'wsgi.url_scheme': 'http' });
    });

    it('never merges X_User_Id into HTTP_X_USER_ID next to X-User-Id', async () => {
      const env = await getJson<Record<string, string | null>>(`${trusted!.url}/`, { 'X_User_Id': 'evil', 'X-User-Id': 'good' });
      expect(env.HTTP_X_USER_ID).to.equal('good');
    });
  });

  it('refuses to start with an entry that is not an address, a CIDR block or *, naming it', async () => {
    const p = await startPassenger(expressApp, { args: ['--trusted-proxies', '127.0.0.1,10.0.0.0/33'], expectExit: true });
    try {
      expect(p.child.exitCode).to.not.equal(0);
      expect(p.output()).to.include('"10.0.0.0/33" in trusted_proxies has a prefix longer than 32 bits');
    } finally {
      await stopAndClean(p);
    }
  });
});
