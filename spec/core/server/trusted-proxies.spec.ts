// trusted_proxies: which peers' X-Forwarded-* headers are believed.
import { expect } from 'chai';
import net from 'node:net';
import { compileTrustedProxies, DEFAULT_TRUSTED_PROXIES } from '../../../core/server/trusted-proxies.ts';
import { isPassengerError } from '../../../core/errors/passenger-error.ts';
import { coreOptions } from '../../../core/config/schema.ts';

describe('trusted proxies (CIDR matching)', () => {
  it('trusts loopback by default, IPv4, IPv6 and IPv4-mapped IPv6, and nothing else', () => {
    const trusts = compileTrustedProxies(DEFAULT_TRUSTED_PROXIES);
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(trusts(a), a).to.equal(true);
    for (const a of ['10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'fe80::1', '', undefined, 'localhost', 'garbage']) expect(trusts(a), String(a)).to.equal(false);
  });

  it('is the default of the trusted_proxies option', () => {
    expect(coreOptions.find((o) => o.name === 'trusted_proxies')?.default).to.deep.equal(DEFAULT_TRUSTED_PROXIES);
  });

  it('matches CIDR blocks at their edges, in both families', () => {
    const trusts = compileTrustedProxies(['10.1.0.0/16', '192.168.7.7', 'fd00::/8', '2001:db8::1/128']);
    expect(trusts('10.1.0.0')).to.equal(true);
    expect(trusts('10.1.255.255')).to.equal(true);
    expect(trusts('10.2.0.0')).to.equal(false);
    expect(trusts('10.0.255.255')).to.equal(false);
    expect(trusts('192.168.7.7')).to.equal(true);
    expect(trusts('192.168.7.8')).to.equal(false);
    expect(trusts('fd12:3456::1')).to.equal(true);
    expect(trusts('fe00::1')).to.equal(false);
    expect(trusts('2001:db8::1')).to.equal(true);
    expect(trusts('2001:db8::2')).to.equal(false);
    expect(trusts('::ffff:10.1.2.3'), 'a mapped IPv4 peer matches an IPv4 block').to.equal(true);
    expect(trusts('127.0.0.1'), 'loopback is not trusted once the list is set').to.equal(false);
  });

  it('accepts a host address with bits past the prefix, /0, and bracketed IPv6', () => {
    expect(compileTrustedProxies(['10.9.9.9/8'])('10.200.1.1')).to.equal(true);
    expect(compileTrustedProxies(['0.0.0.0/0'])('203.0.113.5')).to.equal(true);
    expect(compileTrustedProxies(['0.0.0.0/0'])('2001:db8::5')).to.equal(false);
    expect(compileTrustedProxies(['[::1]'])('::1')).to.equal(true);
  });

  it('reads every spelling of an address that node accepts, and nothing node refuses', () => {
    const everything = compileTrustedProxies(['0.0.0.0/0', '::/0']);
    const spellings = ['1.2.3.4', '255.255.255.255', '0.0.0.0', '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6::8', '1::8', 'ABCD:ef01::1',
      '::ffff:1.2.3.4', '::FFFF:1.2.3.4', '64:ff9b::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', 'fe80::1%eth0',
      '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4x', '1..2.3', ':::1', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::1', 'g::1',
      '::ffff:1.2.3', '1.2.3.4::', ':1::', '1:', ':', '', ' 1.2.3.4', '1:2:3:4:5:6:7::8', '::1.2.3.4:1'];
    for (const a of spellings) expect(everything(a), a).to.equal(net.isIP(a) !== 0);
  });

  it('compares IPv6 spellings by value', () => {
    const trusts = compileTrustedProxies(['127.0.0.0/8', '2001:db8:0:0:1::/80']);
    expect(trusts('0:0:0:0:0:ffff:7f00:1'), 'mapped loopback in hex').to.equal(true);
    expect(trusts('::ffff:7f00:1')).to.equal(true);
    expect(trusts('2001:db8::1:0:0:5')).to.equal(true);
    expect(trusts('2001:DB8:0:0:1:ffff::'), 'the 6th group is past the prefix').to.equal(true);
    expect(trusts('2001:db8:0:0:2::')).to.equal(false);
    expect(trusts('2001:db8::')).to.equal(false);
  });

  it('trusts every peer with *, and none with an empty list', () => {
    expect(compileTrustedProxies(['*'])('203.0.113.5')).to.equal(true);
    expect(compileTrustedProxies(['*'])('2001:db8::5')).to.equal(true);
    expect(compileTrustedProxies([])('127.0.0.1')).to.equal(false);
  });

  for (const [entry, why] of [['10.0.0.0/33', /prefix longer than 32 bits/], ['::/129', /prefix longer than 128 bits/], ['10.0.0', /not an IP address/],
    ['localhost', /not an IP address/], ['10.0.0.0/', /not an IP address/], ['10.0.0.0/8/8', /not an IP address/], ['', /not an IP address/]] as const) {
    it(`refuses ${JSON.stringify(entry)} with PSG_ERR_CONFIG_TYPE naming the entry and the source`, () => {
      let err: unknown;
      try { compileTrustedProxies(['127.0.0.1', entry], 'flag --trusted-proxies'); } catch (e) { err = e; }
      expect(isPassengerError(err) && err.code).to.equal('PSG_ERR_CONFIG_TYPE');
      expect((err as Error).message).to.include(`flag --trusted-proxies: ${JSON.stringify(entry)} in trusted_proxies`).and.match(why);
    });
  }
});
