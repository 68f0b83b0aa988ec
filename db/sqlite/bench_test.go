package sqlite_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"shopauth/auth"
	"shopauth/db/sqlite"
)

// benchDB opens a database with customers customers and sessionsPer sessions each, and returns
// the device IDs.
func benchDB(b *testing.B, customers, sessionsPer int) (*sqlite.DB, []string) {
	b.Helper()
	d, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	now := time.Now()
	var devices []string
	err = d.Update(context.Background(), func(tx auth.Tx) error {
		for i := range customers {
			c := auth.Customer{UUID: uuid.NewString(), Email: fmt.Sprintf("c%d@example.com", i), FirstName: "Jan",
				LastName: "Novák", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$x$y", CreatedAt: now}
			if err := tx.CreateCustomer(&c); err != nil {
				return err
			}
			for range sessionsPer {
				s := randomSession(c.ID, now)
				if err := tx.CreateSession(s); err != nil {
					return err
				}
				devices = append(devices, s.DeviceID)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return d, devices
}

func randomSession(customerID int64, now time.Time) auth.Session {
	secret := make([]byte, 20)
	rand.Read(secret)
	h := sha256.Sum256(secret)
	return auth.Session{DeviceID: uuid.NewString(), CustomerID: customerID, SecretHash: h[:], CreatedAt: now,
		IssuedAt: now, ExpiresAt: now.Add(14 * 24 * time.Hour), KeyID: "kid", Signature: "sig"}
}

// BenchmarkSessionCustomer is the one read an authenticated request costs.
func BenchmarkSessionCustomer(b *testing.B) {
	for _, size := range []struct{ customers, per int }{{10, 1}, {10000, 5}} {
		b.Run(fmt.Sprintf("sessions=%d", size.customers*size.per), func(b *testing.B) {
			d, devices := benchDB(b, size.customers, size.per)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, _, err := d.SessionCustomer(ctx, devices[i%len(devices)]); err != nil {
						b.Error(err)
						return
					}
					i += 7
				}
			})
		})
	}
}

// BenchmarkRotate is the refresh transaction: read the session and its customer, write the rotated
// session, commit.
func BenchmarkRotate(b *testing.B) {
	for _, size := range []struct{ customers, per int }{{10, 1}, {10000, 5}} {
		b.Run(fmt.Sprintf("sessions=%d", size.customers*size.per), func(b *testing.B) {
			d, devices := benchDB(b, size.customers, size.per)
			ctx := context.Background()
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					err := d.Update(ctx, func(tx auth.Tx) error {
						s, err := tx.Session(devices[i%len(devices)])
						if err != nil {
							return err
						}
						if _, err := tx.CustomerByID(s.CustomerID); err != nil {
							return err
						}
						s.PrevSecretHash = s.SecretHash
						s.RotatedAt, s.LastRefreshedAt = now, now
						return tx.UpdateSession(s)
					})
					if err != nil {
						b.Error(err)
						return
					}
					i += 7
				}
			})
		})
	}
}

// BenchmarkSearchCustomers is the admin console's customer list over 10,000 customers with a
// session each: the first page of everyone, a search that scans every row and finds one, and
// one that finds none (a page of 20, and the count of all matches).
func BenchmarkSearchCustomers(b *testing.B) {
	d, _ := benchDB(b, 10_000, 1)
	now := time.Now()
	for _, c := range []struct{ name, text string }{
		{"all-first-page", ""}, {"one-match", "c9999@"}, {"no-match", "nobody"}, {"page-500", ""},
	} {
		q := auth.CustomerSearch{Text: c.text, Limit: 20}
		if c.name == "page-500" {
			q.Offset = 9_980
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := d.SearchCustomers(context.Background(), q, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
