package auth_test

import (
	"slices"
	"strings"
	"testing"

	"shopauth/auth"
)

func TestResolveRelyingParty(t *testing.T) {
	cases := []struct {
		name          string
		issuer, rpID  string
		origins, cors []string
		wantID        string
		wantOrigins   []string
		wantSkipped   []string
		wantErrNaming string // the refusal names this value
	}{
		{name: "issuer host", issuer: "https://auth.shop.cz", wantID: "auth.shop.cz", wantOrigins: []string{"https://auth.shop.cz"}},
		{name: "loopback issuer becomes localhost", issuer: "http://127.0.0.1:8000", wantID: "localhost",
			wantOrigins: []string{"http://localhost:8000"}},
		{name: "IPv6 loopback", issuer: "http://[::1]:8000", wantID: "localhost", wantOrigins: []string{"http://localhost:8000"}},
		{name: "localhost issuer", issuer: "http://localhost:4000", wantID: "localhost", wantOrigins: []string{"http://localhost:4000"}},
		{name: "other IP: off", issuer: "http://10.0.0.5:8000"},
		{name: "default CORS origins outside the RP ID are skipped", issuer: "https://auth.shop.cz",
			cors: []string{"https://www.shop.cz", "https://sub.auth.shop.cz"}, wantID: "auth.shop.cz",
			wantOrigins: []string{"https://auth.shop.cz", "https://sub.auth.shop.cz"}, wantSkipped: []string{"https://www.shop.cz"}},
		{name: "shared parent domain", issuer: "https://auth.shop.cz", rpID: "shop.cz", cors: []string{"https://www.shop.cz"},
			wantID: "shop.cz", wantOrigins: []string{"https://auth.shop.cz", "https://www.shop.cz"}},
		{name: "explicit origins", issuer: "https://auth.shop.cz", rpID: "shop.cz", origins: []string{"https://www.shop.cz", "http://shop.cz:8080"},
			cors: []string{"https://other.example"}, wantID: "shop.cz", wantOrigins: []string{"https://www.shop.cz", "http://shop.cz:8080"}},
		{name: "origins only: RP ID from the issuer", issuer: "https://shop.cz", origins: []string{"https://www.shop.cz"},
			wantID: "shop.cz", wantOrigins: []string{"https://www.shop.cz"}},
		{name: "RP ID not a suffix of a CORS origin", issuer: "https://auth.shop.cz", rpID: "shop.cz",
			cors: []string{"https://www.other.cz"}, wantErrNaming: `"https://www.other.cz"`},
		{name: "suffix without a dot boundary", issuer: "https://auth.shop.cz", rpID: "shop.cz",
			origins: []string{"https://badshop.cz"}, wantErrNaming: `"https://badshop.cz"`},
		{name: "public suffix", issuer: "https://www.shop.co.uk", rpID: "co.uk", wantErrNaming: `"co.uk"`},
		{name: "private public suffix", issuer: "https://shop.github.io", rpID: "github.io", wantErrNaming: `"github.io"`},
		{name: "top-level domain", issuer: "https://shop.cz", rpID: "cz", wantErrNaming: `"cz"`},
		{name: "RP ID with scheme", issuer: "https://shop.cz", rpID: "https://shop.cz", wantErrNaming: `"https://shop.cz"`},
		{name: "RP ID with port", issuer: "https://shop.cz", rpID: "shop.cz:443", wantErrNaming: `"shop.cz:443"`},
		{name: "RP ID an IP", issuer: "http://10.0.0.5", rpID: "10.0.0.5", wantErrNaming: `"10.0.0.5"`},
		{name: "origin with a path", issuer: "https://shop.cz", origins: []string{"https://shop.cz/account"}, wantErrNaming: `"https://shop.cz/account"`},
		{name: "origin with a path after the port", issuer: "https://shop.cz", origins: []string{"https://shop.cz:8443/x"}, wantErrNaming: `"https://shop.cz:8443/x"`},
		// Origins are exactly scheme://host[:port]: each of these parsed as an origin before.
		{name: "origin with a trailing slash", issuer: "https://shop.cz", origins: []string{"https://www.shop.cz/"}, wantErrNaming: `"https://www.shop.cz/"`},
		{name: "origin with a slash and an empty query", issuer: "https://shop.cz", origins: []string{"https://shop.cz/?"}, wantErrNaming: `"https://shop.cz/?"`},
		{name: "origin with a slash and an empty fragment", issuer: "https://shop.cz", origins: []string{"https://shop.cz/#"}, wantErrNaming: `"https://shop.cz/#"`},
		{name: "origin with an empty query", issuer: "https://shop.cz", origins: []string{"https://shop.cz?"}, wantErrNaming: `"https://shop.cz?"`},
		{name: "origin with an empty fragment", issuer: "https://shop.cz", origins: []string{"https://shop.cz#"}, wantErrNaming: `"https://shop.cz#"`},
		{name: "origin with an empty port", issuer: "https://shop.cz", origins: []string{"https://shop.cz:"}, wantErrNaming: `"https://shop.cz:"`},
		{name: "origin with port 0", issuer: "https://shop.cz", origins: []string{"https://shop.cz:0"}, wantErrNaming: `"https://shop.cz:0"`},
		{name: "origin with a port out of range", issuer: "https://shop.cz", origins: []string{"https://shop.cz:99999"}, wantErrNaming: `"https://shop.cz:99999"`},
		{name: "origin with a wildcard host", issuer: "https://shop.cz", origins: []string{"https://*.shop.cz"}, wantErrNaming: `"https://*.shop.cz"`},
		{name: "origin with an upper-case scheme", issuer: "https://shop.cz", origins: []string{"HTTPS://shop.cz"}, wantErrNaming: `"HTTPS://shop.cz"`},
		{name: "a CORS origin with a trailing slash, RP ID given", issuer: "https://auth.shop.cz", rpID: "shop.cz",
			cors: []string{"https://www.shop.cz/"}, wantErrNaming: `"https://www.shop.cz/"`},
		{name: "origin not http", issuer: "https://shop.cz", origins: []string{"ftp://shop.cz"}, wantErrNaming: `"ftp://shop.cz"`},
		{name: "explicit origins with an IP issuer", issuer: "http://10.0.0.5:8000", origins: []string{"https://shop.cz"}, wantErrNaming: "10.0.0.5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rp, err := auth.ResolveRelyingParty(tc.issuer, tc.rpID, tc.origins, tc.cors)
			if tc.wantErrNaming != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrNaming) {
					t.Fatalf("got %+v, %v; want an error naming %s", rp, err, tc.wantErrNaming)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rp.ID != tc.wantID || !slices.Equal(rp.Origins, tc.wantOrigins) || !slices.Equal(rp.Skipped, tc.wantSkipped) {
				t.Fatalf("got %+v, want ID %q origins %v skipped %v", rp, tc.wantID, tc.wantOrigins, tc.wantSkipped)
			}
			cfg := auth.DefaultConfig()
			cfg.Issuer, cfg.WebAuthn = tc.issuer, rp
			if err := cfg.Validate(); err != nil {
				t.Errorf("the resolved relying party does not validate: %v", err)
			}
		})
	}
}
