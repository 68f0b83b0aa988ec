package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/web"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // the prefixes, space-separated
		wantErr string
	}{
		{name: "empty", in: "", want: ""},
		{name: "one CIDR", in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{name: "host bits are masked", in: "192.168.1.7/24", want: "192.168.1.0/24"},
		{name: "list with spaces", in: "127.0.0.1/32, ::1/128 ,fd00::/8", want: "127.0.0.1/32 ::1/128 fd00::/8"},
		{name: "bare addresses are one host", in: "127.0.0.1,::1", want: "127.0.0.1/32 ::1/128"},
		{name: "bad prefix length", in: "10.0.0.0/33", wantErr: `"10.0.0.0/33"`},
		{name: "host name", in: "127.0.0.1,proxy.local", wantErr: `"proxy.local"`},
		{name: "zone", in: "fe80::1%eth0", wantErr: `"fe80::1%eth0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := web.ParseTrustedProxies(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != tc.want {
				t.Errorf("got %q, want %q", s, tc.want)
			}
		})
	}
}

func TestClientAddress(t *testing.T) {
	trusted, err := web.ParseTrustedProxies("10.0.0.0/8,127.0.0.1,::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{name: "no trusted proxies: header ignored", peer: "10.0.0.1:5000", xff: []string{"198.51.100.7"}, want: "10.0.0.1"},
		{name: "untrusted peer: header ignored", trusted: trusted, peer: "203.0.113.9:5000", xff: []string{"198.51.100.7"}, want: "203.0.113.9"},
		{name: "trusted peer, one hop", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "rightmost untrusted wins over a forged left entry", trusted: trusted, peer: "127.0.0.1:5000",
			xff: []string{"1.2.3.4, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "trusted hops are skipped", trusted: trusted, peer: "127.0.0.1:5000",
			xff: []string{"1.2.3.4, 198.51.100.7, 10.1.2.3"}, want: "198.51.100.7"},
		{name: "several headers read in order", trusted: trusted, peer: "127.0.0.1:5000",
			xff: []string{"1.2.3.4", "198.51.100.7,10.1.2.3"}, want: "198.51.100.7"},
		{name: "IPv6 client", trusted: trusted, peer: "[::1]:5000", xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "IPv4-mapped client is written as IPv4", trusted: trusted, peer: "[::1]:5000", xff: []string{"::ffff:198.51.100.7"}, want: "198.51.100.7"},
		{name: "IPv4-mapped peer is trusted", trusted: trusted, peer: "[::ffff:127.0.0.1]:5000", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "no header: the proxy itself", trusted: trusted, peer: "127.0.0.1:5000", want: "127.0.0.1"},
		{name: "empty header: the peer", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{""}, want: "127.0.0.1"},
		{name: "every hop trusted: the leftmost", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{"10.0.0.2, 10.0.0.3"}, want: "10.0.0.2"},
		{name: "malformed entry: the peer", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{"not-an-ip"}, want: "127.0.0.1"},
		{name: "address with port: the peer", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{"198.51.100.7:4711"}, want: "127.0.0.1"},
		{name: "malformed after the client: the peer", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{"198.51.100.7, unknown"}, want: "127.0.0.1"},
		{name: "malformed left of the client does not matter", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{"garbage, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "empty entry between: the peer", trusted: trusted, peer: "127.0.0.1:5000", xff: []string{"198.51.100.7,,"}, want: "127.0.0.1"},
		{name: "peer without port", trusted: trusted, peer: "127.0.0.1", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := web.ClientAddress(tc.trusted, tc.peer, tc.xff); got != tc.want {
				t.Errorf("ClientAddress(%q, %q) = %q, want %q", tc.peer, tc.xff, got, tc.want)
			}
		})
	}
}

// TestForwardedClientIsThrottledAndLogged sends wrong logins through a trusted proxy for two
// clients: the first exhausts its per-email+IP budget, the second is still heard, and the
// access log names each client, not the proxy.
func TestForwardedClientIsThrottledAndLogged(t *testing.T) {
	var logs bytes.Buffer
	trusted, _ := web.ParseTrustedProxies("10.0.0.0/8")
	s := newServer(t, func(c *web.Config) {
		c.TrustedProxies = trusted
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	login := func(client string) string {
		body, _ := json.Marshal(map[string]any{"query": `mutation { Login(input: {email: "victim@shop.cz", password: "wrong password"}) { accessToken } }`})
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.RemoteAddr = "10.0.0.1:40000"
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", "203.0.113.66, "+client)
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		return w.Body.String()
	}
	for i := range 5 {
		if got := login("198.51.100.7"); !strings.Contains(got, "invalid-credentials") {
			t.Fatalf("attempt %d: %s", i+1, got)
		}
	}
	if got := login("198.51.100.7"); !strings.Contains(got, "too-many-login-attempts") {
		t.Fatalf("sixth failure of one client was not throttled: %s", got)
	}
	if got := login("198.51.100.8"); !strings.Contains(got, "invalid-credentials") {
		t.Fatalf("another client behind the same proxy was throttled: %s", got)
	}
	out := logs.String()
	for _, want := range []string{`"remote":"198.51.100.7"`, `"remote":"198.51.100.8"`} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"remote":"10.0.0.1"`) || strings.Contains(out, "203.0.113.66") {
		t.Errorf("access log names the proxy or the forged entry:\n%s", out)
	}
}

// A refresh-token reuse seen through a trusted proxy is audited under the forwarded client.
func TestForwardedClientIsAudited(t *testing.T) {
	trusted, _ := web.ParseTrustedProxies("10.0.0.0/8")
	s := newServer(t, func(c *web.Config) { c.TrustedProxies = trusted })
	pair := s.tokens(`mutation { Register(input: {firstName: "Audit", lastName: "Proxy", email: "audit-proxy@shop.cz", password: "` + password + `"}) { accessToken refreshToken } }`)
	refresh := func() string {
		body, _ := json.Marshal(map[string]any{"query": `mutation { RefreshTokens(input: {refreshToken: "` + pair.RefreshToken + `"}) { refreshToken } }`})
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.RemoteAddr = "10.0.0.1:40000"
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", "198.51.100.42")
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		return w.Body.String()
	}
	if got := refresh(); !strings.Contains(got, `"refreshToken":"ey`) {
		t.Fatalf("first refresh: %s", got)
	}
	s.advance(time.Minute) // past the grace interval: presenting it again is reuse
	if got := refresh(); !strings.Contains(got, "invalid-token") {
		t.Fatalf("reuse: %s", got)
	}
	events, err := s.db.AuditLog(context.Background(), auth.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].RemoteAddr != "198.51.100.42" {
		t.Fatalf("audit events %+v, want one from 198.51.100.42", events)
	}
}

// BenchmarkClientAddress: the per-request cost of --trusted-proxies on a proxied request.
func BenchmarkClientAddress(b *testing.B) {
	trusted, _ := web.ParseTrustedProxies("127.0.0.1,::1,10.0.0.0/8")
	xff := []string{"203.0.113.5, 198.51.100.7, 10.1.2.3"}
	b.ReportAllocs()
	for b.Loop() {
		if web.ClientAddress(trusted, "127.0.0.1:40000", xff) != "198.51.100.7" {
			b.Fatal("wrong client")
		}
	}
}
