package web_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"shopauth/auth"
)

func TestDiscoveryDocument(t *testing.T) {
	s := newServer(t)
	get := func() (map[string]any, *httptest.ResponseRecorder) {
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%d %s: %v", w.Code, w.Body, err)
		}
		return doc, w
	}
	doc, w := get()
	issuer := s.svc.Config().Issuer
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	for header, want := range map[string]string{"Content-Type": jsonCT, "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"} {
		if got := w.Header().Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	want := map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              issuer + "/.well-known/jwks.json",
		"subject_types_supported":               []any{"public"},
		"response_types_supported":              []any{"id_token"},
		"id_token_signing_alg_values_supported": []any{"RS256"},
	}
	for k, v := range want {
		got, _ := json.Marshal(doc[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s", k, got, exp)
		}
	}
	// A rotated key is published at once, so both algorithms are listed.
	if _, err := s.svc.RotateKey(context.Background(), auth.ES256, auth.SignAfterPublishing); err != nil {
		t.Fatal(err)
	}
	doc, _ = get()
	if got, _ := json.Marshal(doc["id_token_signing_alg_values_supported"]); string(got) != `["ES256","RS256"]` {
		t.Errorf("after rotating to ES256: algorithms %s", got)
	}
}
