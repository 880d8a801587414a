package ratelimit

import "net/netip"

// IPKey is what one client IP is counted under: an IPv4 address itself,
// and the /64 of an IPv6 one, since a single subscriber usually gets a
// whole /64 and could otherwise rotate through 2^64 addresses. An
// unparsable ip (none, in tests) is its own key. The spelling is part of
// the limiter key layout, so deployed counters keep counting across
// releases.
func IPKey(ip string) string { return prefixKey(ip, 0) }

// NetworkKey is the network an IP belongs to, for limits that should not
// be dodged by moving to a neighbouring address: the /24 of an IPv4
// address, the /64 of an IPv6 one. An unparsable ip is its own network.
func NetworkKey(ip string) string { return prefixKey(ip, 24) }

// prefixKey spells ip as its IPv6 /64, or its IPv4 /v4Bits (0: the bare
// address).
func prefixKey(ip string, v4Bits int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		if v4Bits == 0 {
			return a.String()
		}
		p, _ := a.Prefix(v4Bits)
		return p.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
