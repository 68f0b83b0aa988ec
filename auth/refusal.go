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

// Refusal reasons as the log writes them.
const (
	reasonExpired        = "expired"
	reasonNotYetValid    = "not yet valid"
	reasonWrongIssuer    = "wrong issuer"
	reasonWrongAudience  = "wrong audience"
	reasonUnknownKid     = "unknown kid"
	reasonNoKid          = "no kid"
	reasonBadSignature   = "bad signature"
	reasonWrongAlg       = "algorithm is not the key's"
	reasonWrongType      = "wrong type"
	reasonMalformed      = "malformed"
	reasonSessionEnded   = "session ended"
	reasonSessionExpired = "session expired"
	reasonReuse          = "reuse"
	reasonOtherCustomer  = "token names another customer"
	reasonPasswordChange = "password changed since issued"
	reasonInvalid        = "invalid"
)

// refusalReason names why err refused a token: the kind of token presented and what failed.
func refusalReason(kind tokenKind, raw string, err error) string {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return reasonExpired
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return reasonNotYetValid
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return reasonWrongIssuer
	case errors.Is(err, jwt.ErrInvalidAudience):
		return reasonWrongAudience
	case errors.Is(err, ErrNotFound):
		return reasonSessionEnded
	}
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		err = e.Err
	}
	msg := err.Error()
	switch {
	case msg == string(refusalSessionEnded):
		return reasonSessionEnded
	case msg == string(refusalSessionExpired):
		return reasonSessionExpired
	case msg == string(refusalReused):
		return reasonReuse
	case msg == string(refusalAnotherCustomer):
		return reasonOtherCustomer
	case strings.HasPrefix(msg, "password changed"):
		return reasonPasswordChange
	case strings.Contains(msg, "session belongs to another customer or has expired"):
		return reasonSessionEnded
	case strings.Contains(msg, "does not belong in this kind of token"), strings.HasPrefix(msg, "missing claim"),
		strings.Contains(msg, "under a refresh key's kid"):
		// Claims are checked after the signature: a token we signed that lacks one is the other kind.
		return reasonWrongType
	case strings.Contains(msg, "unknown kid"):
		return reasonUnknownKid
	case strings.Contains(msg, "has no kid"):
		return reasonNoKid
	case strings.HasPrefix(msg, "signature"):
		return reasonBadSignature
	case strings.HasPrefix(msg, "alg "):
		return reasonWrongAlg
	case msg == "aud is not a string":
		return reasonWrongAudience
	case strings.HasPrefix(msg, "parse"), strings.Contains(msg, "canonical"), strings.HasPrefix(msg, "empty or oversized"),
		strings.HasPrefix(msg, "malformed"), strings.HasPrefix(msg, "claims"),
		strings.Contains(msg, "required"), strings.Contains(msg, "not a UUID"), msg == "unexpected roles",
		msg == "want exactly one signature", strings.HasPrefix(msg, "crit"):
		if kind == accessToken && looksLikeRefresh(raw) {
			return reasonWrongType // an HS256 refresh token never parses as an access token
		}
		return reasonMalformed
	}
	return reasonInvalid
}

// looksLikeRefresh reports whether raw starts with the header of an HS256 refresh token.
func looksLikeRefresh(raw string) bool {
	header, _, _ := strings.Cut(raw, ".")
	return strings.HasPrefix(header, "eyJhbGciOiJIUzI1NiI") // {"alg":"HS256"
}

// logRefusal writes why a token was refused (only for invalid-token errors; internal errors are
// logged where they are answered).
func (s *Service) logRefusal(ctx context.Context, kind tokenKind, raw string, err error) {
	if err == nil || ErrorCode(err) != EInvalidToken {
		return
	}
	msg := "access token refused"
	if kind == refreshToken {
		msg = "refresh refused"
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, msg, slog.String("reason", refusalReason(kind, raw, err)),
		slog.String("remote", ClientFromContext(ctx).IP))
}
