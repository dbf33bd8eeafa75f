package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrNotPublic says that an endpoint's address is not on the public
// internet. Webhook URLs are set by administrators, but a server that posts
// wherever it is told can be made to reach what only it can reach: its own
// admin ports, the database, a cloud's metadata service (169.254.169.254).
// So by default the sender connects to public addresses only, checked on
// the address actually dialled (after DNS, so a name that resolves to a
// private address — or starts to, later — is refused too).
var ErrNotPublic = errors.New("not a public address")

// notPublic lists what is not the public internet beyond what net/netip
// already classifies (loopback, private, link-local, multicast,
// unspecified): shared address space (carrier-grade NAT, some clouds'
// internal services), "this network", IETF protocol assignments,
// benchmarking, documentation, reserved and NAT64 of the IPv4 ones.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("2001:db8::/32"),
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// isPublic reports whether ip is a public unicast address.
func isPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		return isPublic(netip.AddrFrom4([4]byte(b[12:])))
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// publicOnly is a net.Dialer Control function that refuses connections to
// addresses that are not public.
func publicOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook: dial %s: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook: dial %s: %w", address, err)
	}
	if !isPublic(ip) {
		return fmt.Errorf("webhook: %s is %w; Alinea posts webhooks to private networks only when started with --webhook-private-networks (ALINEA_WEBHOOK_PRIVATE_NETWORKS=true)", ip, ErrNotPublic)
	}
	return nil
}

// newTransport is http.DefaultTransport's configuration with a dialer that,
// unless private is set, connects to public addresses only.
func newTransport(private bool) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !private {
		d.Control = publicOnly
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}
