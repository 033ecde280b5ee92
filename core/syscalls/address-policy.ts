/**
 * Which IP addresses a plugin may reach. Private, loopback, IPv6 link-local, CGNAT, multicast,
 * unspecified, IPv4-mapped and NAT64 addresses need the exact host granted; cloud metadata addresses,
 * which include all of IPv4 link-local 169.254/16, are refused always. Uses node's BlockList so IPv4 and IPv6 follow one code path.
 */
import { BlockList, isIP } from 'node:net';

const METADATA = new BlockList();
METADATA.addSubnet('169.254.0.0', 16, 'ipv4');
METADATA.addAddress('100.100.100.200', 'ipv4');
METADATA.addAddress('fd00:ec2::254', 'ipv6');

const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48],
] as const) INTERNAL.addSubnet(net, bits, 'ipv6');

export const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

export type AddressVerdict = 'public' | 'internal' | 'metadata';

export function classifyAddress(address: string): AddressVerdict {
  const family = isIP(address);
  if (family === 0) return 'internal';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const mapped = type === 'ipv6' ? mappedV4(address) : undefined;
  if (mapped) {
    if (METADATA.check(mapped, 'ipv4')) return 'metadata';
    return 'internal';
  }
  if (METADATA.check(address, type)) return 'metadata';
  if (INTERNAL.check(address, type)) return 'internal';
  return 'public';
}

function mappedV4(address: string): string | undefined {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1];
}
