// Closing a listener must not reset the connections the kernel completed for
// it but the process had not accepted yet (core/server/listener-close.ts).
// The spec blocks its own event loop while a child process connects and
// sends a request on each connection: those connections wait in the accept
// queue, as they do on a busy server at the moment its stop closes the
// listener. A plain close() resets them; closeAfterAccepting serves them.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { acceptQueueLength, closeAfterAccepting } from '../../../core/server/listener-close.ts';

const CLIENTS = 5;

// Connects CLIENTS times, sends a line on each, prints what each got: "ok", or the error code.
const CLIENT = `
const net = require('node:net');
const [port, n] = process.argv.slice(1).map(Number);
const results = [];
for (let i = 0; i < n; i++) {
  const c = net.connect(port, '127.0.0.1');
  let got = '';
  c.on('connect', () => c.write('hi\\n'));
  c.on('data', (d) => { got += d; });
  c.on('error', (e) => { results.push(e.code); if (results.length === n) done(); });
  c.on('close', (hadError) => { if (!hadError) { results.push(got === 'ok' ? 'ok' : 'empty'); if (results.length === n) done(); } });
}
function done() { console.log(JSON.stringify(results)); process.exit(0); }
setTimeout(() => { console.log(JSON.stringify(results)); process.exit(1); }, 10000);
`;

function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A server that answers "ok" to a line, and a child that connected to it while this loop was blocked (so nothing was accepted yet). */
async function queuedClients(): Promise<{ server: net.Server; results: Promise<string[]> }> {
  const server = net.createServer((s) => { s.on('error', () => {}); s.once('data', () => s.end('ok')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const child = spawn(process.execPath, ['-e', CLIENT, String((server.address() as net.AddressInfo).port), String(CLIENTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const results = new Promise<string[]>((resolve) => child.once('exit', () => resolve(JSON.parse(out || '[]') as string[])));
  // The child starts and connects; the kernel completes the handshakes and queues them (the loop, blocked, accepts none).
  const deadline = Date.now() + 8000;
  while (acceptQueueLength(server) !== CLIENTS && Date.now() < deadline) blockFor(20);
  // Time for the requests to follow the handshakes.
  blockFor(100);
  return { server, results };
}

describe('closing a listener (listener-close.ts)', function () {
  this.timeout(20000);

  it('reads the accept queue of a listener from the kernel: what a blocked loop did not accept, then nothing', async () => {
    const { server, results } = await queuedClients();
    expect(acceptQueueLength(server)).to.equal(CLIENTS);
    await new Promise((r) => setTimeout(r, 200));
    expect(acceptQueueLength(server)).to.equal(0);
    expect(await results).to.deep.equal(Array(CLIENTS).fill('ok'));
    server.close();
  });

  it('closes only after accepting the queued connections: each gets its answer, where a plain close resets them', async () => {
    const plain = await queuedClients();
    plain.server.close();
    const lost = (await plain.results).filter((r) => r !== 'ok');
    expect(lost.length, 'connections reset by a plain close').to.equal(CLIENTS);

    const careful = await queuedClients();
    await closeAfterAccepting(careful.server, () => careful.server.close());
    expect(careful.server.listening).to.equal(false);
    expect(await careful.results).to.deep.equal(Array(CLIENTS).fill('ok'));
  });

  it('closes a listener that is not TCP (a unix socket) after one turn of the loop', async () => {
    const server = net.createServer();
    const path = `/tmp/psg-listener-close-${process.pid}.sock`;
    await new Promise<void>((r) => server.listen(path, r));
    expect(acceptQueueLength(server)).to.equal(undefined);
    await closeAfterAccepting(server, () => server.close());
    expect(server.listening).to.equal(false);
  });
});
