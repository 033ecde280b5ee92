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
// Each range carries the name `caduceus guards check url` prints for it.
const V4_RANGES = [
  ['0.0.0.0', 8, 'unspecified'], ['10.0.0.0', 8, 'private'], ['100.64.0.0', 10, 'CGNAT'], ['127.0.0.0', 8, 'loopback'], ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'], ['192.0.0.0', 24, 'IETF protocol assignments'], ['192.168.0.0', 16, 'private'], ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'], ['240.0.0.0', 4, 'reserved'],
] as const;
const V6_RANGES = [
  ['::', 128, 'unspecified'], ['::1', 128, 'loopback'], ['fc00::', 7, 'unique local (private)'], ['fe80::', 10, 'link-local'], ['ff00::', 8, 'multicast'],
  ['64:ff9b:1::', 48, 'local-use NAT64'], ['2001:db8::', 32, 'documentation'],
] as const;
const INTERNAL_V4 = new BlockList();
for (const [net, bits] of V4_RANGES) INTERNAL_V4.addSubnet(net, bits, 'ipv4');
const INTERNAL_V6 = new BlockList();
for (const [net, bits] of V6_RANGES) INTERNAL_V6.addSubnet(net, bits, 'ipv6');

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

/**
 * classifyAddress plus the name of the range that decided it ("loopback", "CGNAT", "IPv4-mapped", …), for
 * operators reading `caduceus guards check url`. The verdict is always classifyAddress's.
 */
export function describeAddress(address: string): { verdict: AddressVerdict; range: string } {
  const verdict = classifyAddress(address);
  const family = isIP(address);
  if (family === 0) return { verdict, range: 'not an IP address' };
  if (verdict === 'metadata' && family === 4) return { verdict, range: address.startsWith('169.254.') ? 'link-local (cloud metadata)' : 'cloud metadata' };
  if (family === 6) {
    const g = groups(address);
    if (g && embeddedV4(address)) {
      const zeros = g.slice(0, 5).every((x) => x === 0);
      const form = zeros && g[5] === 0xffff ? 'IPv4-mapped' : zeros && g[5] === 0 ? 'IPv4-compatible' : 'NAT64';
      return { verdict, range: `${form} (${embeddedV4(address)})${verdict === 'metadata' ? ', cloud metadata' : ''}` };
    }
    if (verdict === 'metadata') return { verdict, range: 'cloud metadata' };
  }
  if (verdict === 'public') return { verdict, range: 'public' };
  const ranges = family === 4 ? V4_RANGES : V6_RANGES;
  for (const [net, bits, name] of ranges) {
    const one = new BlockList();
    one.addSubnet(net, bits, family === 4 ? 'ipv4' : 'ipv6');
    if (one.check(address, family === 4 ? 'ipv4' : 'ipv6')) return { verdict, range: name };
  }
  return { verdict, range: 'internal' };
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
