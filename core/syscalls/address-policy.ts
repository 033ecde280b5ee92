/**
 * Which IP addresses a plugin may reach. Private, loopback, IPv6 link-local, CGNAT, multicast,
 * unspecified, IPv4-mapped and NAT64 addresses need the exact host granted; cloud metadata addresses,
 * which include all of IPv4 link-local 169.254/16, are refused always. Uses node's BlockList so IPv4 and IPv6 follow one code path.
 */
import { BlockList, isIP } from 'node:net';

const METADATA_V4 = new BlockList();
METADATA_V4.addSubnet('169.254.0.0', 16, 'ipv4');
METADATA_V4.addAddress('100.100.100.200', 'ipv4');
const METADATA_V6 = new BlockList();
METADATA_V6.addAddress('fd00:ec2::254', 'ipv6');

// IPv4 and IPv6 rules live in separate lists: a BlockList compares IPv4 addresses against IPv6 rules
// through their IPv4-mapped form, so one ::ffff:0:0/96 rule would match every IPv4 address.
const INTERNAL_V4 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL_V4.addSubnet(net, bits, 'ipv4');
const INTERNAL_V6 = new BlockList();
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b:1::', 48], ['2001:db8::', 32],
] as const) INTERNAL_V6.addSubnet(net, bits, 'ipv6');

export const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

export type AddressVerdict = 'public' | 'internal' | 'metadata';

export function classifyAddress(address: string): AddressVerdict {
  const family = isIP(address);
  if (family === 0) return 'internal';
  if (family === 4) {
    if (METADATA_V4.check(address, 'ipv4')) return 'metadata';
    return INTERNAL_V4.check(address, 'ipv4') ? 'internal' : 'public';
  }
  const embedded = embeddedV4(address);
  if (embedded) {
    // IPv4-mapped, IPv4-compatible and NAT64 forms: never public, and metadata if the IPv4 inside is.
    return METADATA_V4.check(embedded, 'ipv4') ? 'metadata' : 'internal';
  }
  if (METADATA_V6.check(address, 'ipv6')) return 'metadata';
  return INTERNAL_V6.check(address, 'ipv6') ? 'internal' : 'public';
}

/** The IPv4 address inside ::ffff:a.b.c.d, ::a.b.c.d (not :: or ::1) and 64:ff9b::a.b.c.d, in any spelling. */
function embeddedV4(address: string): string | undefined {
  const g = groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const v4 = () => `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  if (zeros(0, 5) && g[5] === 0xffff) return v4();
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return v4();
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4();
  return undefined;
}

/** Parses an IPv6 address into its eight 16-bit groups (dotted IPv4 tails included). */
function groups(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const all = [...h, ...Array(fill).fill('0'), ...t].map((x) => parseInt(x, 16));
  return all.length === 8 && all.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? all : undefined;
}
