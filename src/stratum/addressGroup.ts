// The unit pending solutions are bounded by (docs/hostile-peers.md "Share path"): an IPv4 address, or an IPv6 /64
// (one host easily holds a whole /64, so counting single IPv6 addresses would bound nothing).
import { isIPv4, isIPv6 } from 'node:net';

export function addressGroup(address: string): string {
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(mapped)) return mapped;
  if (!isIPv6(address)) return address;
  return `${ipv6Hextets(address).slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of a valid IPv6 address (zone dropped, `::` expanded, leading zeros removed). */
function ipv6Hextets(address: string): string[] {
  const bare = address.split('%')[0] ?? '';
  const [head = '', tail] = bare.split('::') as [string, string | undefined];
  const parse = (part: string): string[] => (part === '' ? [] : part.split(':').map((h) => Number.parseInt(h, 16).toString(16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
}
