// The unit a peer is counted by everywhere (connection caps, pending solutions, bans; docs/hostile-peers.md): an
// IPv4 address (also written as ::ffff:a.b.c.d), or an IPv6 address's /64. One subscriber usually holds a whole /64,
// so counting single IPv6 addresses would bound nothing: a host could take a fresh address per connection.
import { isIPv4, isIPv6 } from 'node:net';

/** Expands an IPv6 address to its eight 16-bit groups (an embedded dotted IPv4 tail becomes two groups). */
function ipv6Groups(ip: string): number[] {
  let address = ip;
  const zone = address.indexOf('%');
  if (zone !== -1) address = address.slice(0, zone);
  const lastColon = address.lastIndexOf(':');
  const last = address.slice(lastColon + 1);
  if (isIPv4(last)) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    address = `${address.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = address.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
}

/**
 * IPv4 as is, also IPv4-mapped IPv6 however it is written (::ffff:1.2.3.4, ::ffff:102:304, 0:0:0:0:0:ffff:…);
 * IPv6 as "a:b:c:d::/64" (lowercase, no leading zeros); anything else unchanged.
 */
export function addressGroup(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return ip;
  const groups = ipv6Groups(ip.toLowerCase());
  if (groups.length === 8 && groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
