import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';

/**
 * Earnest never stores a visitor's IP address: clicks keep a salted SHA-256 of it, and so do
 * conversions whose brand sent the customer's IP. Rules that compare addresses (repeats, velocity,
 * bursts) only need to know which events share one, so when stored traffic is judged again the engine
 * is fed a stable pseudo-address per hash instead:
 *
 * - from `2001:db8::/32`, the IPv6 documentation prefix (RFC 3849): no provider announces it, so no
 *   pseudo-address ever matches a data-centre range, and it is never a real client;
 * - one /64 per hash (32 bits of the hash pick it), because the engine counts an IPv6 address as its
 *   /64: two hashes must never fall into one network by construction;
 * - a conversion's IPv4 hash becomes an address in 240.0.0.0/4 (reserved, never routed, in no
 *   provider's range), so the engine applies its IPv4 limits (the IPv6-only /64 burst rule is
 *   stricter, for subscriber networks, and must not hit an IPv4 office NAT).
 *
 * Two different hashes may, rarely, get one pseudo-address (32 bits, or 28 for IPv4): the only effect
 * is that two visitors count as one address in velocity windows.
 */
export function pseudoAddress(ipHash: string): string {
  const digest = createHash('sha256').update(ipHash).digest();
  if (ipHash.startsWith('4:')) {
    // 240–254: the reserved block without 255 (broadcast).
    return `${240 + ((digest[0] as number) % 15)}.${digest[1]}.${digest[2]}.${digest[3]}`;
  }
  const hextet = (i: number) => (((digest[i] as number) << 8) | (digest[i + 1] as number)).toString(16);
  return `2001:db8:${hextet(0)}:${hextet(2)}::1`;
}

/**
 * The salted hash a conversion's customer IP is kept as: `4:<hex>` for IPv4 (and IPv4-mapped IPv6)
 * addresses, `6:<hex>` for IPv6 ones, hashed as their /64 (the block one subscriber gets; privacy
 * extensions rotate the rest), so the pseudo-address keeps what the engine compares.
 */
export function customerIpHash(salt: string, ip: string): string {
  const parsed = ipaddr.process(ip);
  if (parsed.kind() === 'ipv4') return `4:${sha256(salt, parsed.toString())}`;
  const network = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':');
  return `6:${sha256(salt, `${network}::/64`)}`;
}

function sha256(salt: string, text: string): string {
  return createHash('sha256').update(salt).update('\n').update(text).digest('hex');
}
