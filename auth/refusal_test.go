package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"shopauth/auth"
	"shopauth/internal/testkit"
)

// Each refused token is logged at info level with its reason and the client's address, and the
// log never holds the token.
func TestRefusalsAreLoggedWithTheirReason(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.ReuseInterval = 0 })
	var logs testkit.LogBuffer
	svc, err := auth.New(context.Background(), e.db, e.cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = e.clock
	ctx := auth.NewContextWithClient(context.Background(), auth.Client{IP: "198.51.100.7"})

	pair := e.register("refusals@shop.cz")
	rotated := e.mustRefresh(pair.RefreshToken) // pair.RefreshToken is now used up
	loggedOut := e.login("refusals@shop.cz")
	if err := e.svc.Logout(ctx, e.mustAuthenticate(loggedOut.AccessToken)); err != nil {
		t.Fatal(err)
	}
	expiring := e.login("refusals@shop.cz")

	parts := strings.Split(rotated.AccessToken, ".")
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "no-such-key", "typ": "JWT"})
	unknownKid := base64.RawURLEncoding.EncodeToString(header) + "." + parts[1] + "." + parts[2]
	// flipMiddle keeps the signature valid base64url, so the refusal is the signature's, not a
	// malformed token's (XOR-ing a byte could turn '-' into '.').
	badSignature := tamper(rotated.AccessToken, 2, flipMiddle)

	tests := []struct {
		name    string
		refresh bool // RefreshTokens, else a bearer access token
		token   string
		advance time.Duration
		want    string
	}{
		{name: "access: unknown kid", token: unknownKid, want: "unknown kid"},
		{name: "access: bad signature", token: badSignature, want: "bad signature"},
		{name: "access: a refresh token", token: rotated.RefreshToken, want: "wrong type"},
		{name: "access: logged out", token: loggedOut.AccessToken, want: "session ended"},
		{name: "access: garbage", token: "not.a.token", want: "malformed"},
		{name: "refresh: an access token", refresh: true, token: rotated.AccessToken, want: "wrong type"},
		{name: "refresh: logged out", refresh: true, token: loggedOut.RefreshToken, want: "session ended"},
		{name: "refresh: reuse", refresh: true, token: pair.RefreshToken, want: "reuse"},
		{name: "access: expired", token: expiring.AccessToken, advance: 2 * time.Hour, want: "expired"},
		{name: "refresh: expired", refresh: true, token: expiring.RefreshToken, advance: 15 * 24 * time.Hour, want: "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.advance(tt.advance)
			before := len(logs.String())
			msg := "access token refused"
			if tt.refresh {
				msg = "refresh refused"
				_, err = svc.Refresh(ctx, tt.token)
			} else {
				_, err = svc.Authenticate(ctx, tt.token)
			}
			if auth.ErrorCode(err) != auth.EInvalidToken {
				t.Fatalf("err = %v, want invalid-token", err)
			}
			var line struct{ Level, Msg, Reason, Remote string }
			out := logs.String()[before:]
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var x struct{ Level, Msg, Reason, Remote string }
				if json.Unmarshal([]byte(l), &x) == nil && x.Msg == msg {
					line = x
				}
			}
			if line.Level != "INFO" || line.Reason != tt.want || line.Remote != "198.51.100.7" {
				t.Errorf("logged %+v, want %q at INFO from 198.51.100.7; log:\n%s", line, tt.want, out)
			}
		})
	}
	out := logs.String()
	for _, tok := range []string{pair.RefreshToken, rotated.AccessToken, loggedOut.AccessToken, expiring.RefreshToken} {
		for _, part := range strings.Split(tok, ".")[1:] {
			if strings.Contains(out, part) {
				t.Fatalf("the log holds a token part %q:\n%s", part, out)
			}
		}
	}
}
