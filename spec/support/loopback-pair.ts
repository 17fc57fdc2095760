// A loopback TCP connection for specs: a listening server, the socket it
// accepted and the client's socket; close() ends all three.
import net from 'node:net';

export interface LoopbackPair {
  server: net.Server;
  serverSide: net.Socket;
  client: net.Socket;
  close(): Promise<void>;
}

export async function loopbackPair(): Promise<LoopbackPair> {
  let accept!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => { accept = r; });
  const server = net.createServer(accept);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const serverSide = await accepted;
  return {
    server, serverSide, client,
    close: async () => {
      client.destroy();
      serverSide.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
