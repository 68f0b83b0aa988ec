package auth

import (
	"errors"
	"fmt"
	"testing"
)

// TestUnavailable: a store's failure to reach its database keeps its message for the log, and
// reaches the client as EUnavailable, however it is wrapped; anything else foreign stays internal.
func TestUnavailable(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:5432: connection refused")
	for _, tc := range []struct {
		name          string
		err           error
		code, message string
	}{
		{"marked by the store, through internal", internal("auth.Login", Unavailable(refused)), EUnavailable, MsgUnavailable},
		{"marked and wrapped again", fmt.Errorf("op: %w", Unavailable(fmt.Errorf("read: %w", refused))), EUnavailable, MsgUnavailable},
		{"an internal error around it", &Error{Code: EInternal, Message: MsgInternal, Err: Unavailable(refused)}, EUnavailable, MsgUnavailable},
		{"a foreign error", internal("auth.Login", refused), EInternal, MsgInternal},
		{"a domain error stays itself", &Error{Code: EInvalidCredentials, Message: MsgLoginFailed, Err: Unavailable(refused)}, EInvalidCredentials, MsgLoginFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := ErrorMessage(tc.err); got != tc.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.message)
			}
			if !errors.Is(tc.err, refused) {
				t.Error("the cause is lost")
			}
		})
	}
	if Unavailable(nil) != nil {
		t.Error("Unavailable(nil) is not nil")
	}
	if got := Unavailable(refused).Error(); got != refused.Error() {
		t.Errorf("the message became %q", got)
	}
}
