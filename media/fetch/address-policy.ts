/**
 * Which IP addresses remote media may be fetched from. The default policy admits only
 * public unicast addresses: IPv4 outside every special-purpose range (private, loopback,
 * link-local, CGNAT, multicast, broadcast, reserved, `0.0.0.0/8`, …) and IPv6 inside
 * global unicast `2000::/3` but outside the ranges that embed or tunnel IPv4 (NAT64,
 * 6to4, Teredo) or are otherwise special. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged
 * as the IPv4 address it carries.
 */
import ipaddr from 'ipaddr.js';

/** Returns true when the fetcher may connect to `address` (a literal IPv4 or IPv6). */
export type AddressPolicy = (address: string) => boolean;

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/** The default policy: only public unicast addresses. Unparseable input is refused. */
export const isPublicAddress: AddressPolicy = (address) => {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast';
  const ipv6 = parsed as ipaddr.IPv6;
  return ipv6.range() === 'unicast' && ipv6.match(GLOBAL_UNICAST_V6);
};

/**
 * Admits every address, loopback included. Only for tests that fetch from a local
 * server; never pass it in production code.
 */
export const allowAnyAddressForTests: AddressPolicy = (address) => ipaddr.isValid(address);
