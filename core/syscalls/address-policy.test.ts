/** Address classification for net.fetch, including every spelling of an embedded IPv4 address. */
import { describe, expect, it } from 'vitest';
import { classifyAddress } from './address-policy.js';

describe('classifyAddress', () => {
  it('lets public IPv4 and IPv6 addresses through (regression: every IPv4 once matched an IPv6 rule)', () => {
    for (const a of ['8.8.8.8', '93.184.216.34', '1.1.1.1', '2606:4700::1111', '2a00:1450:4001::200e']) expect(classifyAddress(a), a).toBe('public');
  });

  it('marks private, loopback, link-local, CGNAT, multicast and unspecified addresses internal', () => {
    for (const a of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '127.8.8.8', '100.64.1.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
      '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1']) expect(classifyAddress(a), a).toBe('internal');
  });

  it('marks cloud metadata addresses, and all of 169.254/16, as metadata', () => {
    for (const a of ['169.254.169.254', '169.254.1.1', '100.100.100.200', 'fd00:ec2::254']) expect(classifyAddress(a), a).toBe('metadata');
  });

  it('sees through IPv4-mapped, IPv4-compatible and NAT64 spellings', () => {
    for (const a of ['::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:a9fe:a9fe', '::a9fe:a9fe', '::169.254.169.254', '64:ff9b::a9fe:a9fe']) {
      expect(classifyAddress(a), a).toBe('metadata');
    }
    // A public IPv4 behind a mapped or NAT64 form still needs the exact host granted.
    for (const a of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::7f00:1', '::ffff:8.8.8.8', '64:ff9b::808:808']) expect(classifyAddress(a), a).toBe('internal');
  });
});
