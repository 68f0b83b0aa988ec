package auth

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
)

// A refused token gets "Token is not valid." and nothing more, as the contract wants; the operator
// gets the reason in the log at info level, so "why was I logged out?" has an answer. The token
// itself is never logged: it is a credential until it expires.

// refusal is why a token was refused, in the spirit of Upspin's errors.Kind: every check that
// refuses a token says which kind of refusal it is (refuse), and errors.Is(err, refusalExpired)
// holds for the error it returns. Its text is the reason the log writes.
type refusal string

// Refusals, as the log writes them.
const (
	refusalExpired         refusal = "expired"
	refusalNotYetValid     refusal = "not yet valid"
	refusalWrongIssuer     refusal = "wrong issuer"
	refusalWrongAudience   refusal = "wrong audience"
	refusalUnknownKid      refusal = "unknown kid"
	refusalNoKid           refusal = "no kid"
	refusalBadSignature    refusal = "bad signature"
	refusalWrongAlg        refusal = "algorithm is not the key's"
	refusalWrongType       refusal = "wrong type" // a token of the other kind (claims are checked after the signature)
	refusalMalformed       refusal = "malformed"
	refusalSessionEnded    refusal = "session ended"
	refusalSessionExpired  refusal = "session expired"
	refusalReused          refusal = "reuse"
	refusalAnotherCustomer refusal = "token names another customer"
	refusalPasswordChanged refusal = "password changed since issued"
	refusalInvalid         refusal = "invalid" // none of the above
)

// Error makes a refusal an errors.Is target.
func (r refusal) Error() string { return string(r) }

// refusedError is a refused token's cause: the kind of refusal and what exactly failed (the
// detail, kept for the tests and for debugging; the log writes the kind).
type refusedError struct {
	kind   refusal
	detail error
}

func (e *refusedError) Error() string {
	if e.detail == nil {
		return string(e.kind)
	}
	return e.detail.Error()
}

// Is makes errors.Is(err, kind) hold; Unwrap keeps errors.Is(err, jwt.ErrExpired) and the like.
func (e *refusedError) Is(target error) bool { return target == error(e.kind) }
func (e *refusedError) Unwrap() error        { return e.detail }

// refuse says that detail refused a token as kind (detail nil: the kind says it all).
func refuse(kind refusal, detail error) error { return &refusedError{kind: kind, detail: detail} }

// Refusals that carry go-jose's own errors, made once: the access cache's expiry is a hot path.
var (
	errRefusedExpired = refuse(refusalExpired, jwt.ErrExpired)
)

// refusalOf is the kind of refusal err says; refusalInvalid when it says none.
func refusalOf(err error) refusal {
	var r *refusedError
	if errors.As(err, &r) {
		return r.kind
	}
	return refusalInvalid
}

// unparsable refuses raw, which could not be read as a token of the kind: an HS256 refresh token
// presented as an access token never parses as one, and is the wrong type rather than malformed.
func unparsable(kind tokenKind, raw string, detail error) error {
	if kind == accessToken && looksLikeRefresh(raw) {
		return refuse(refusalWrongType, detail)
	}
	return refuse(refusalMalformed, detail)
}

// looksLikeRefresh reports whether raw starts with the header of an HS256 refresh token.
func looksLikeRefresh(raw string) bool {
	header, _, _ := strings.Cut(raw, ".")
	return strings.HasPrefix(header, "eyJhbGciOiJIUzI1NiI") // {"alg":"HS256"
}

// logRefusal writes why a token was refused (only for invalid-token errors; internal errors are
// logged where they are answered).
func (s *Service) logRefusal(ctx context.Context, kind tokenKind, err error) {
	if err == nil || ErrorCode(err) != EInvalidToken {
		return
	}
	msg := "access token refused"
	if kind == refreshToken {
		msg = "refresh refused"
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, msg, slog.String("reason", string(refusalOf(err))),
		slog.String("remote", ClientFromContext(ctx).IP))
}
