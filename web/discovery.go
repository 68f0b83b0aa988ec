package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"shopauth/auth"
)

// DiscoverySource is what the discovery document is made from: the issuer and the published keys.
type DiscoverySource interface {
	Config() auth.Config
	JWKS() auth.JWKS
}

// discovery is the OpenID Provider Metadata subset that JWT verifiers read (API gateways,
// openid-client, go-oidc): who issues, where the keys are, which algorithms sign. shopauth has
// no authorization endpoint; response_types_supported is required by the format and says
// id_token, the only kind of JWT a verifier of this document checks.
type discovery struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	ResponseTypesSupported           []string `json:"response_types_supported"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
}

// DiscoveryHandler serves /.well-known/openid-configuration. The issuer is --issuer byte for byte
// (verifiers compare it with the URL they were given); the algorithms are those of the keys in
// the JWKS, so a verifier never pins one that no live key uses. Cached like the JWKS.
func DiscoveryHandler(src DiscoverySource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		issuer := src.Config().Issuer
		var algs []string
		for _, k := range src.JWKS().Keys {
			if k.Algorithm != "" && !slices.Contains(algs, k.Algorithm) {
				algs = append(algs, k.Algorithm)
			}
		}
		slices.Sort(algs)
		body, err := json.Marshal(discovery{
			Issuer:                           issuer,
			JWKSURI:                          strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json",
			ResponseTypesSupported:           []string{"id_token"},
			SubjectTypesSupported:            []string{"public"},
			IDTokenSigningAlgValuesSupported: algs,
			ClaimsSupported:                  []string{"iss", "aud", "iat", "nbf", "exp", "uuid", "deviceId", "email", "fullName", "roles"},
		})
		if err != nil {
			writeError(w, http.StatusInternalServerError, auth.MsgInternal, "")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(body)
	})
}
