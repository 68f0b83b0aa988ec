package auth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"shopauth/auth"
)

// bcrypt hashes of testPassword, as a Shopsys import brings them ($2a$ here; $2y$ is the same).
const (
	bcrypt10 = "$2a$10$BzL7w3EIjUwmAlJ/e7q0CO.WBEuYyXTJilL1lzTyX3Wpdi1M0sX4a"
	bcrypt12 = "$2a$12$oPiLGX.uXCYhY0eJuFVLVOEfmFqADFtExeW5k6VvEDqGRI9s2NmSG"
	bcrypt13 = "$2a$13$5AGfMVpknrFKhNBajGbfUeZD2hdnSr.WcyfWTFyRHpo9AMKgf4DVS"
)

// sleeps records the waits the service asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
}

func (s *sleeps) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.d
	s.d = nil
	return d
}

func (e *testEnv) importHash(email, hash string) {
	e.t.Helper()
	if _, err := e.svc.ImportCustomers(context.Background(), []auth.NewCustomer{{Email: email, FirstName: "Jan",
		LastName: "Novák", PasswordHash: hash}}); err != nil {
		e.t.Fatal(err)
	}
}

// TestLoginFailureTiming: on a clock that stands still during the check, every
// kind of failure asks to wait the same floor, and the floor covers the slowest stored bcrypt
// cost; a right password waits for nothing.
func TestLoginFailureTiming(t *testing.T) {
	e := newEnv(t)
	e.register("native@shop.cz")
	e.importHash("cost10@shop.cz", bcrypt10)
	e.importHash("cost12@shop.cz", bcrypt12)
	var s sleeps
	e.svc.Sleep = s.sleep
	if _, err := e.svc.Prune(context.Background()); err != nil { // recalibrates for the imported costs
		t.Fatal(err)
	}
	var floor time.Duration
	for _, email := range []string{"nobody@shop.cz", "native@shop.cz", "cost10@shop.cz", "cost12@shop.cz", "not an email"} {
		ctx := auth.NewContextWithClient(context.Background(), auth.Client{IP: "192.0.2." + fmt.Sprint(len(email))})
		_, err := e.svc.Login(ctx, email, "wrong horse")
		if auth.ErrorCode(err) != auth.EInvalidCredentials {
			t.Fatalf("%s: %v", email, err)
		}
		got := s.take()
		if len(got) != 1 {
			t.Fatalf("%s: waits %v, want one", email, got)
		}
		if floor == 0 {
			floor = got[0]
		}
		if got[0] != floor {
			t.Errorf("%s: waited %v, the first failure %v", email, got[0], floor)
		}
	}
	// The floor is a cost-12 bcrypt hash, as the service measured it: some milliseconds at least.
	if floor < 5*time.Millisecond {
		t.Errorf("floor %v does not cover a cost-12 bcrypt check", floor)
	}
	t.Logf("floor for stored bcrypt cost 12: %v", floor)
	if _, err := e.svc.Login(context.Background(), "native@shop.cz", testPassword); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 0 {
		t.Errorf("a successful login waited %v", got)
	}
}

// TestRecoveryRequestTiming: known and unknown emails do the same write and answer at the same
// moment.
func TestRecoveryRequestTiming(t *testing.T) {
	e := newEnv(t)
	e.register("known@shop.cz")
	var s sleeps
	e.svc.Sleep = s.sleep
	for _, email := range []string{"known@shop.cz", "unknown@shop.cz", strings.Repeat("x", 300)} {
		if err := e.svc.RequestPasswordRecovery(context.Background(), email); err != nil {
			t.Fatal(err)
		}
		if got := s.take(); len(got) != 1 || got[0] != 25*time.Millisecond {
			t.Errorf("%.20s: waits %v, want one of 25ms", email, got)
		}
	}
}

// BenchmarkLoginFailure measures a wrong-password Login per kind of account, on the real clock:
// go test -run X -bench LoginFailure -benchtime 5x ./auth/
func BenchmarkLoginFailure(b *testing.B) {
	e := newEnv(b)
	e.svc.Now = time.Now
	e.register("native@shop.cz")
	e.importHash("cost10@shop.cz", bcrypt10)
	e.importHash("cost13@shop.cz", bcrypt13)
	e.svc.Prune(context.Background())
	for _, email := range []string{"nobody@shop.cz", "native@shop.cz", "cost10@shop.cz", "cost13@shop.cz"} {
		b.Run(email, func(b *testing.B) {
			for i := range b.N {
				ctx := auth.NewContextWithClient(context.Background(), auth.Client{IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250)})
				if _, err := e.svc.Login(ctx, email, "wrong horse"); auth.ErrorCode(err) != auth.EInvalidCredentials {
					b.Fatal(err)
				}
			}
		})
	}
}
