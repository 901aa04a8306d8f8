import ipaddr from 'ipaddr.js';

/**
 * Which addresses a fetch on a caller's behalf may connect to. Only globally routable unicast is allowed; everything
 * an attacker could use to reach the inside of the cluster is refused:
 * loopback, RFC 1918 private, link-local (which holds the cloud metadata service, 169.254.169.254), CGNAT
 * (100.64/10), multicast, broadcast, unspecified, reserved and documentation ranges, IPv6 unique-local (which holds
 * AWS' fd00:ec2::254), and IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64), which are judged by the
 * address they embed or refused.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

/** ipaddr.js names every special range; only `unicast` means "somewhere on the public internet". */
const PUBLIC_RANGES = new Set(['unicast']);

export function judgeAddress(address: string): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, range: 'invalid' };
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    // ::ffff:127.0.0.1 is 127.0.0.1 to the kernel; judge the IPv4 address it carries.
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  const range = parsed.range();
  return PUBLIC_RANGES.has(range)
    ? { allowed: true }
    : { allowed: false, range: `${parsed.kind()} ${range}` };
}

/** A literal IP host of a URL (`[::1]` as written in URLs included), or undefined for a name. */
export function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? bare : undefined;
}

/** Membership tests for CIDR ranges such as `10.20.0.0/16` or `fd12::/64`; an invalid range is a startup error. */
export function parseCidrs(cidrs: readonly string[]): Array<(address: string) => boolean> {
  return cidrs.map((cidr) => {
    const [range, bits] = ipaddr.parseCIDR(cidr);
    return (address: string) => {
      if (!ipaddr.isValid(address)) return false;
      let parsed = ipaddr.parse(address);
      if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
        parsed = (parsed as ipaddr.IPv6).toIPv4Address();
      return parsed.kind() === range.kind() && parsed.match(range, bits);
    };
  });
}
