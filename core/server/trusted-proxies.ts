// Which peers count as proxies whose X-Forwarded-* headers can be believed
// (the trusted_proxies option): addresses and CIDR blocks, IPv4 and IPv6,
// or `*`. Every address is compared as IPv6 (IPv4 as ::ffff:a.b.c.d), so an
// IPv4 block also matches the IPv4-mapped peers a dual-stack listener
// reports. Written by hand rather than with node's BlockList, whose check
// costs microseconds per call: this runs for every SCGI request.
import net from 'node:net';
import { PassengerError } from '../errors/passenger-error.ts';

/** Loopback, as gunicorn's forwarded_allow_ips: a proxy on the same machine. */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = ['127.0.0.0/8', '::1'];

/** Tells whether a peer address (as a socket or REMOTE_ADDR gives it) is a trusted proxy. */
export type ProxyTrust = (address: string | undefined) => boolean;

/** An address as eight 16-bit groups. */
type Words = number[];

interface Block { words: Words; prefix: number }

const ENTRY = /^\[?([0-9A-Fa-f:.]+)\]?(?:\/(\d{1,3}))?$/;

/** a.b.c.d as a 32-bit number, or -1 when `text` is not exactly that. */
function parseV4(text: string): number {
  let value = 0;
  let octet = -1;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet < 0 ? c - 48 : octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46 /* . */ && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = -1; digits = 0; dots++;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

function isHex(group: string): boolean {
  if (group.length === 0 || group.length > 4) return false;
  for (let i = 0; i < group.length; i++) {
    const c = group.charCodeAt(i) | 0x20; // lower case for letters
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** `a:b:c` as groups; an IPv4 address may end it when `lastMayBeV4`. Undefined when malformed. */
function groupsOf(part: string, lastMayBeV4: boolean): Words | undefined {
  if (part === '') return [];
  const out: Words = [];
  const parts = part.split(':');
  for (let i = 0; i < parts.length; i++) {
    const g = parts[i]!;
    if (lastMayBeV4 && i === parts.length - 1 && g.includes('.')) {
      const v4 = parseV4(g);
      if (v4 < 0) return undefined;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (isHex(g)) out.push(parseInt(g, 16));
    else return undefined;
  }
  return out;
}

/**
 * An IPv4 or IPv6 address as eight 16-bit groups (IPv4 as ::ffff:a.b.c.d),
 * or undefined when it is neither. A zone (fe80::1%eth0) is ignored.
 */
function toWords(address: string): Words | undefined {
  const v4 = parseV4(address);
  if (v4 >= 0) return [0, 0, 0, 0, 0, 0xffff, v4 >>> 16, v4 & 0xffff];
  // What a dual-stack listener reports for an IPv4 peer, first.
  if (address.length > 7 && address.charCodeAt(6) === 58 && address.slice(0, 7).toLowerCase() === '::ffff:') {
    const mapped = parseV4(address.slice(7));
    if (mapped >= 0) return [0, 0, 0, 0, 0, 0xffff, mapped >>> 16, mapped & 0xffff];
  }
  const pct = address.indexOf('%');
  const text = pct < 0 ? address : address.slice(0, pct);
  const gap = text.indexOf('::');
  if (gap < 0) {
    const all = groupsOf(text, true);
    return all?.length === 8 ? all : undefined;
  }
  if (text.indexOf('::', gap + 1) >= 0) return undefined;
  const head = groupsOf(text.slice(0, gap), false);
  const tail = groupsOf(text.slice(gap + 2), true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function inBlock(words: Words, block: Block): boolean {
  let bits = block.prefix;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((words[i]! & mask) !== (block.words[i]! & mask)) return false;
  }
  return true;
}

function invalid(entry: string, source: string, why: string): PassengerError {
  return new PassengerError('PSG_ERR_CONFIG_TYPE', `${source}: ${JSON.stringify(entry)} in trusted_proxies ${why}`,
    { source, key: 'trusted_proxies', expected: 'IP addresses, CIDR blocks (10.0.0.0/8, fd00::/8) or *', received: entry });
}

/**
 * Compiles the option's entries into a matcher; throws PSG_ERR_CONFIG_TYPE
 * naming the first entry that is not an address, a CIDR block or `*`.
 */
export function compileTrustedProxies(entries: readonly string[], source = 'trusted_proxies'): ProxyTrust {
  const blocks: Block[] = [];
  let any = false;
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '*') { any = true; continue; }
    const m = ENTRY.exec(entry);
    const family = m ? net.isIP(m[1]!) : 0;
    if (!m || family === 0) throw invalid(raw, source, 'is not an IP address, a CIDR block or *');
    const max = family === 4 ? 32 : 128;
    const prefix = m[2] === undefined ? max : Number(m[2]);
    if (prefix > max) throw invalid(raw, source, `has a prefix longer than ${max} bits`);
    const words = toWords(m[1]!);
    if (!words) throw invalid(raw, source, 'is not an IP address, a CIDR block or *');
    blocks.push({ words, prefix: family === 4 ? prefix + 96 : prefix });
  }
  if (any) return () => true;
  if (blocks.length === 0) return () => false;
  return (address) => {
    const words = address ? toWords(address) : undefined;
    return words !== undefined && blocks.some((b) => inBlock(words, b));
  };
}
