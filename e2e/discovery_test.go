package e2e

import (
	"path/filepath"
	"shopauth/internal/servetest"
	"strings"
	"testing"

	"shopauth/internal/testkit"
)

// startAtIssuer starts the server with its issuer equal to the URL it listens on, as a deployment
// has it (discovery clients compare the two): without --issuer, serve on a picked port issues for
// that port.
func startAtIssuer(t *testing.T, extra ...string) *servetest.Server {
	t.Helper()
	return servetest.Start(t, servetest.Binary(t), filepath.Join(t.TempDir(), "shop.db"), append([]string{"--issuer="}, extra...)...)
}

func TestOpenIDDiscoveryWithOpenIDClientAndJose(t *testing.T) {
	servetest.RequireExternal(t)
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			srv := startAtIssuer(t, "--signing-alg", alg)
			pair := testkit.Register(t, srv.URL, "discovery@shop.cz", "password1")
			out := servetest.Node(t, "discovery.mjs", srv.URL, pair.AccessToken)
			for _, want := range []string{"DISCOVERY ok", `"issuer":"` + srv.URL + `"`,
				`"id_token_signing_alg_values_supported":["` + alg + `"]`, "discovery@shop.cz"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s", want)
				}
			}
		})
	}
}
