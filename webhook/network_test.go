package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestIsPublic(t *testing.T) {
	cases := []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"151.101.1.69", true},
		{"2001:4860:4860::8888", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.254", false},
		{"172.32.0.1", true},
		{"192.168.1.10", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},      // shared address space
		{"100.100.100.200", false}, // a cloud's metadata inside it
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"255.255.255.255", false},
		{"224.0.0.1", false},
		{"198.18.0.1", false},
		{"203.0.113.7", false}, // documentation
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a00:1", false},  // NAT64 of 10.0.0.1
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2001:db8::1", false},
	}
	for _, c := range cases {
		if got := isPublic(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("isPublic(%s) = %v, want %v", c.addr, got, c.public)
		}
	}
}

// By default a sender does not connect to a loopback receiver, whether the
// URL names its address or a name that resolves to it, and says why; with
// PrivateNetworks it does.
func TestSenderRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	public := NewSender(Options{Version: "test"})
	for _, url := range []string{srv.URL + "/hook", byName + "/hook"} {
		res, err := public.Send(context.Background(), url, "s", Payload{ID: 1})
		if !errors.Is(err, ErrNotPublic) {
			t.Fatalf("POST %s: %v, want ErrNotPublic", url, err)
		}
		if !strings.Contains(err.Error(), "--webhook-private-networks") || res.StatusCode != 0 {
			t.Errorf("POST %s: status %d, error %q; want no answer and the setting to change", url, res.StatusCode, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}

	private := NewSender(Options{Version: "test", PrivateNetworks: true})
	if _, err := private.Send(context.Background(), srv.URL+"/hook", "s", Payload{ID: 1}); err != nil {
		t.Fatalf("with PrivateNetworks: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the receiver got %d requests, want 1", n)
	}
}
