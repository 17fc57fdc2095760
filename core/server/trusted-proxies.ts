// Which peers count as proxies whose X-Forwarded-* headers can be believed
// (the trusted_proxies option): addresses and CIDR blocks, IPv4 and IPv6,
// or `*`. Matching is done by node's BlockList, which also matches
// IPv4-mapped IPv6 peers (::ffff:127.0.0.1) against IPv4 blocks, as a
// dual-stack listener reports them.
import net from 'node:net';
import { PassengerError } from '../errors/passenger-error.ts';

/** Loopback, as gunicorn's forwarded_allow_ips: a proxy on the same machine. */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = ['127.0.0.0/8', '::1'];

/** Tells whether a peer address (as a socket or REMOTE_ADDR gives it) is a trusted proxy. */
export type ProxyTrust = (address: string | undefined) => boolean;

const ENTRY = /^\[?([0-9A-Fa-f:.]+)\]?(?:\/(\d{1,3}))?$/;

function invalid(entry: string, source: string, why: string): PassengerError {
  return new PassengerError('PSG_ERR_CONFIG_TYPE', `${source}: ${JSON.stringify(entry)} in trusted_proxies ${why}`,
    { source, key: 'trusted_proxies', expected: 'IP addresses, CIDR blocks (10.0.0.0/8, fd00::/8) or *', received: entry });
}

/**
 * Compiles the option's entries into a matcher; throws PSG_ERR_CONFIG_TYPE
 * naming the first entry that is not an address, a CIDR block or `*`.
 */
export function compileTrustedProxies(entries: readonly string[], source = 'trusted_proxies'): ProxyTrust {
  const list = new net.BlockList();
  let any = false;
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '*') { any = true; continue; }
    const m = ENTRY.exec(entry);
    const family = m ? net.isIP(m[1]!) : 0;
    if (!m || family === 0) throw invalid(raw, source, 'is not an IP address, a CIDR block or *');
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (m[2] === undefined) { list.addAddress(m[1]!, type); continue; }
    const prefix = Number(m[2]);
    if (prefix > (family === 4 ? 32 : 128)) throw invalid(raw, source, `has a prefix longer than ${family === 4 ? 32 : 128} bits`);
    list.addSubnet(m[1]!, prefix, type);
  }
  if (any) return () => true;
  return (address) => {
    if (!address) return false;
    const family = net.isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
