package webfetch

import (
	"net/netip"
)

// An address class a download may not reach unless the operator allows
// its network: glint's own host, the private networks behind it, the
// cloud's metadata service and everything else that is not an ordinary
// public unicast address.
type addrClass struct {
	net  netip.Prefix
	name string
}

var internalClasses = func() []addrClass {
	list := []struct{ cidr, name string }{
		{"0.0.0.0/8", "a 'this network' address"},
		{"10.0.0.0/8", "a private address"},
		{"100.64.0.0/10", "a shared (carrier-grade NAT) address"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", "a link-local address (cloud metadata services live here)"},
		{"172.16.0.0/12", "a private address"},
		{"192.0.0.0/24", "an IETF protocol address"},
		{"192.0.2.0/24", "a documentation address"},
		{"192.88.99.0/24", "a 6to4 relay address"},
		{"192.168.0.0/16", "a private address"},
		{"198.18.0.0/15", "a benchmarking address"},
		{"198.51.100.0/24", "a documentation address"},
		{"203.0.113.0/24", "a documentation address"},
		{"224.0.0.0/4", "a multicast address"},
		{"240.0.0.0/4", "a reserved address"},
		{"::/128", "the unspecified address"},
		{"::1/128", "a loopback address"},
		{"100::/64", "a discard address"},
		{"2001::/32", "a Teredo address"},
		{"2001:2::/48", "a benchmarking address"},
		{"2001:10::/28", "an ORCHID address"},
		{"2001:20::/28", "an ORCHID address"},
		{"2001:db8::/32", "a documentation address"},
		{"fc00::/7", "a unique local (private) address"},
		{"fe80::/10", "a link-local address"},
		{"fec0::/10", "a site-local address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]addrClass, len(list))
	for i, c := range list {
		out[i] = addrClass{netip.MustParsePrefix(c.cidr), c.name}
	}
	return out
}()

// Prefixes whose addresses carry an IPv4 address inside an IPv6 one; the
// embedded address is judged too, so ::ffff:127.0.0.1, 64:ff9b::a00:1 or
// 2002:7f00:1:: cannot reach what 127.0.0.1 or 10.0.0.1 may not.
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	compatible = netip.MustParsePrefix("::/96")
	translated = netip.MustParsePrefix("::ffff:0:0:0/96")
)

// refusal says why addr may not be connected to, or "" when it may. An
// address inside one of allowed is always fine.
func refusal(addr netip.Addr, allowed []netip.Prefix) string {
	addr = addr.Unmap().WithZone("")
	for _, p := range allowed {
		if p.Contains(addr) {
			return ""
		}
	}
	if addr.Is4() && addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "the broadcast address"
	}
	for _, c := range internalClasses {
		if c.net.Contains(addr) {
			return c.name
		}
	}
	if v4, ok := embeddedIPv4(addr); ok {
		if why := refusal(v4, allowed); why != "" {
			return why + " (inside an IPv6 address)"
		}
	}
	return ""
}

func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64.Contains(a), compatible.Contains(a), translated.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case nat64Local.Contains(a):
		// RFC 8215 local-use NAT64: the address sits at the /96 end too.
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}
