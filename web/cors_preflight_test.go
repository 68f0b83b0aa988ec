package web_test

import (
	"testing"

	"shopauth/web"
)

// A preflight is answered whatever the case, order, spacing or repeats of the header names it
// asks for: browsers send them lower-cased and sorted, hand-written clients often do not.
func TestCORSPreflightHeaderNamesInAnyForm(t *testing.T) {
	s := newServer(t, func(c *web.Config) { c.CORSOrigins = []string{"https://shop.example"} })
	for _, names := range []string{
		"authorization,content-type",
		"Content-Type, Authorization",
		"content-type,authorization",
		"X-Auth-Token,content-type, content-type",
		"CONTENT-TYPE",
	} {
		sc := exchange{name: names, method: "OPTIONS", url: "/graphql",
			header: map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": names},
			status: 204, wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://shop.example"}}
		t.Run(names, func(t *testing.T) { sc.run(t, s.h) })
	}
	// A header the server does not allow is still refused.
	refused := exchange{name: "x-other", method: "OPTIONS", url: "/graphql",
		header: map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "Content-Type, X-Other"},
		status: 204, wantHeader: map[string]string{"Access-Control-Allow-Origin": ""}}
	t.Run("x-other", func(t *testing.T) { refused.run(t, s.h) })
}
