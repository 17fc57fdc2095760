import { PassengerError } from '../errors/passenger-error.ts';

export type ProtocolName = 'session' | 'http_session' | (string & {});

/** A server socket an app process reported: `main;unix:/path;session;1`. */
export interface ProcessSocket {
  name: string;
  /** `unix:/abs/path` or `tcp://127.0.0.1:PORT`. */
  address: string;
  protocol: ProtocolName;
  /** Requests the process accepts at once; 0 means unlimited. */
  concurrency: number;
  /** The loader keeps `session` connections open between requests when asked (flag `keepalive`). */
  keepAlive?: boolean;
}

export function parseSocketLine(value: string): ProcessSocket {
  const parts = value.split(';');
  const [name, address, protocol, concurrency, flags] = parts;
  const conc = Number(concurrency);
  if ((parts.length !== 4 && parts.length !== 5) || !name || !address || !protocol || !Number.isInteger(conc) || conc < 0) {
    throw new PassengerError('PSG_ERR_SPAWN_PROTOCOL',
      `socket line must be "name;address;protocol;concurrency[;flags]", got "${value}"`);
  }
  if (!/^unix:\//.test(address) && !/^tcp:\/\/[^:]+:\d+$/.test(address)) {
    throw new PassengerError('PSG_ERR_SPAWN_PROTOCOL',
      `socket address must be "unix:/absolute/path" or "tcp://host:port", got "${address}"`);
  }
  // Flags: comma-separated; unknown ones are ignored (forward compatibility).
  const keepAlive = flags !== undefined && flags.split(',').includes('keepalive');
  return keepAlive ? { name, address, protocol, concurrency: conc, keepAlive } : { name, address, protocol, concurrency: conc };
}

/** Options for net.connect() from a reported address. */
export function connectOptions(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice(5) };
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(address);
  if (!m) throw new PassengerError('PSG_ERR_SPAWN_PROTOCOL', `unsupported socket address "${address}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
