package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"shopauth/auth"
)

// ParseTrustedProxies reads --trusted-proxies: comma-separated CIDRs (10.0.0.0/8, fd00::/8) or
// single addresses (127.0.0.1). The error names the value that is neither.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR (such as 10.0.0.0/8) or an IP address", part)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ClientAddress is the address a request is attributed to (throttling, audit log, access log).
// The TCP peer, unless the peer is one of the trusted proxies: then the rightmost X-Forwarded-For
// address that is not itself trusted, since each proxy appends the address it received the
// request from and everything left of the last trusted hop is whatever the client chose to send.
// A malformed entry on the way falls back to the peer: a proxy that writes garbage is not to
// be believed about anything. Without trusted proxies the header is never read.
func ClientAddress(trusted []netip.Prefix, remoteAddr string, forwardedFor []string) string {
	peer := remoteAddr
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		peer = host
	}
	peerAddr, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(trusted, peerAddr) {
		return peer
	}
	var hops []string
	for _, v := range forwardedFor {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := ""
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil || a.Zone() != "" {
			return peer
		}
		client = a.Unmap().String()
		if !isTrusted(trusted, a) {
			return client
		}
	}
	if client == "" {
		return peer // a trusted peer that forwarded nothing: a request of its own
	}
	// Every hop is trusted: the leftmost is as far as anyone can tell (nginx's real_ip does the same).
	return client
}

func isTrusted(trusted []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// WithClient puts the caller's address (see ClientAddress) and user agent into the request
// context. It is the one place where a request's origin is decided: throttling and the audit
// log read it through auth.ClientFromContext, and the access log through clientIP.
func WithClient(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var xff []string
		if len(trusted) > 0 {
			xff = r.Header.Values("X-Forwarded-For")
		}
		ip := ClientAddress(trusted, r.RemoteAddr, xff)
		ctx := auth.NewContextWithClient(r.Context(), auth.Client{IP: ip, UserAgent: r.UserAgent()})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientIP is the address WithClient attributed the request to, the peer's if it did not run.
func clientIP(r *http.Request) string {
	if c := auth.ClientFromContext(r.Context()); c.IP != "" {
		return c.IP
	}
	return ClientAddress(nil, r.RemoteAddr, nil)
}
