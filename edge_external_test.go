package main

import (
	"net"
	"strings"
	"testing"
)

// startAtIssuer starts the server with its issuer equal to the URL it listens on, as a deployment
// has it (discovery clients compare the two).
func startAtIssuer(t *testing.T, configure func(*Main)) *Main {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, func(m *Main) {
		m.Listener, m.Addr = l, l.Addr().String()
		m.Config.Issuer = "http://" + m.Addr
		if configure != nil {
			configure(m)
		}
	})
}

func TestOpenIDDiscoveryWithOpenIDClientAndJose(t *testing.T) {
	requireExternal(t)
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			m := startAtIssuer(t, func(m *Main) { m.Config.SigningAlgorithm = alg })
			pair := register(t, m.URL(), "discovery@shop.cz", "password1")
			out := node(t, "e2e/discovery.mjs", m.Config.Issuer, pair.AccessToken)
			for _, want := range []string{"DISCOVERY ok", `"issuer":"` + m.Config.Issuer + `"`,
				`"id_token_signing_alg_values_supported":["` + alg + `"]`, "discovery@shop.cz"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s", want)
				}
			}
		})
	}
}
