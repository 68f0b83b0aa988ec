package web_test

import (
	"strings"
	"testing"

	"shopauth/web"
)

func TestCheckCORSOrigin(t *testing.T) {
	tests := []struct {
		origin      string
		credentials bool
		wantErr     string // empty: accepted
	}{
		{origin: "https://shop.cz"},
		{origin: "http://localhost:3000"},
		{origin: "http://[::1]:3000"},
		{origin: "https://*.shop.cz"},
		{origin: "*"},
		{origin: "*", credentials: true, wantErr: "wildcard"},
		{origin: "https://shop.cz/", wantErr: "ends in a slash"},
		{origin: "https://shop.cz/app", wantErr: "has a path"},
		{origin: "shop.cz", wantErr: "has no scheme"},
		{origin: "//shop.cz", wantErr: "has no scheme"},
		{origin: "https://shop.cz?x=1", wantErr: "query"},
		{origin: "https://user@shop.cz", wantErr: "user info"},
		{origin: "https://", wantErr: "no host"},
		{origin: "HTTPS://shop.cz", wantErr: "lower case"},
		{origin: "https://shop.cz:443", wantErr: "default port"},
		{origin: "http://shop.cz:80", wantErr: "default port"},
		{origin: "https://shop.cz:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			err := web.CheckCORSOrigin(tt.origin, tt.credentials)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("accepted, want an error about %s", tt.wantErr)
			case tt.wantErr != "" && (!strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `"`+tt.origin+`"`)):
				t.Errorf("error %q does not name the origin and say %s", err, tt.wantErr)
			}
		})
	}
}
