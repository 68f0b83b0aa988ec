package resolvers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"shopauth/auth"
)

func TestFailMapsDomainErrors(t *testing.T) {
	var logs bytes.Buffer
	r := &Root{log: slog.New(slog.NewTextHandler(&logs, nil))}
	validation := &auth.Error{Code: auth.EValidation, Message: auth.MsgValidation,
		Validation: auth.Violations{"input.email": {{Message: "Please enter valid email", Code: "x"}}}}
	tests := []struct {
		name       string
		err        error
		message    string
		userCode   string
		validation bool
		logged     bool
	}{
		{"invalid token", &auth.Error{Code: auth.EInvalidToken, Message: auth.MsgInvalidToken, Err: errors.New("unknown kid")}, "Token is not valid.", "invalid-token", false, false},
		{"wrapped domain error", fmt.Errorf("op: %w", &auth.Error{Code: auth.EInvalidCredentials, Message: auth.MsgLoginFailed}), "Log in failed.", "invalid-credentials", false, false},
		{"validation keeps its details", validation, "validation", "validation", true, false},
		{"internal error is hidden", &auth.Error{Code: auth.EInternal, Message: auth.MsgInternal, Err: errors.New("SQL logic error near /var/lib/secret.db")}, "Internal error.", "internal", false, true},
		{"foreign error is hidden", errors.New("disk I/O error at /var/lib/secret.db"), "Internal error.", "internal", false, true},
		{"timeout", context.DeadlineExceeded, "Request timed out.", "timeout", false, false},
		{"database out of reach", fmt.Errorf("auth.Login: %w", auth.Unavailable(errors.New("dial tcp 10.0.0.5:5432 for secret.db: connection refused"))),
			"The service is temporarily unavailable.", "unavailable", false, true},
		{"database out of reach, from auth", &auth.Error{Code: auth.EUnavailable, Message: auth.MsgUnavailable, Err: auth.Unavailable(errors.New("secret.db: disk I/O error"))},
			"The service is temporarily unavailable.", "unavailable", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			var e *Error
			if !errors.As(r.fail(context.Background(), tt.err), &e) {
				t.Fatal("fail did not return a resolver Error")
			}
			ext := e.Extensions()
			if e.Message != tt.message || ext["userCode"] != tt.userCode {
				t.Errorf("got %q/%v, want %q/%s", e.Message, ext["userCode"], tt.message, tt.userCode)
			}
			if _, ok := ext["validation"]; ok != tt.validation {
				t.Errorf("validation extension present = %v, want %v", ok, tt.validation)
			}
			if strings.Contains(e.Message, "secret.db") {
				t.Errorf("the client sees the cause: %q", e.Message)
			}
			if got := strings.Contains(logs.String(), "secret.db"); got != tt.logged {
				t.Errorf("cause logged = %v, want %v", got, tt.logged)
			}
		})
	}
}

func TestScalars(t *testing.T) {
	var p Password
	if err := p.UnmarshalGraphQL("  pa ss  "); err != nil || string(p) != "  pa ss  " {
		t.Errorf("Password is not passed through unchanged: %q, %v", p, err)
	}
	if err := p.UnmarshalGraphQL(12345678); err == nil {
		t.Error("a number was accepted as a Password")
	}
	if b, _ := p.MarshalJSON(); strings.Contains(string(b), "pa ss") {
		t.Error("a Password marshals its value")
	}
	var u Uuid
	if err := u.UnmarshalGraphQL(true); err == nil {
		t.Error("a boolean was accepted as a Uuid")
	}
	if b, _ := Uuid("0b6e7c4e-3b1b-4c55-9a8e-2f7a3c9b1d10").MarshalJSON(); string(b) != `"0b6e7c4e-3b1b-4c55-9a8e-2f7a3c9b1d10"` {
		t.Errorf("Uuid marshals as %s", b)
	}
}
