package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"
)

// The bound on refreshes: a refresh signs two tokens, so RefreshTokens/s can be at most half of
// what BenchmarkRSA2048Sign reports (with -cpu 2 and RunParallel, per the machine).
//
//	go test -run '^$' -bench 'RSA2048|Sign|Verify' -benchmem -cpu 1,2 ./auth

// BenchmarkRSA2048Sign is the raw PKCS#1 v1.5 signature of a SHA-256 digest, with nothing around it.
func BenchmarkRSA2048Sign(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("shopauth"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchKey(b *testing.B, alg string) (*Service, *ringKey) {
	b.Helper()
	k, err := GenerateKey(alg, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	s := &Service{cfg: DefaultConfig(), Now: time.Now}
	s.keys.set([]SigningKey{k})
	return s, s.keys.byKeyID(k.ID)
}

var benchCustomer = Customer{UUID: "6f1f3c36-7d6c-4d53-9f43-6a1b0c9d2e11", Email: "jan.novak@example.com",
	FirstName: "Jan", LastName: "Novák"}

const benchDevice = "0b7c1a52-3c55-4c1e-9b7e-2f0e8a9c4d33"

// BenchmarkSign is one token signature as the refresh path makes it: header, payload, signature.
func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{RS256, ES256, EdDSA} {
		b.Run(alg, func(b *testing.B) {
			s, k := benchKey(b, alg)
			now := time.Now()
			payload := s.refreshPayload(benchCustomer.UUID, benchDevice, "0123456789abcdef0123456789abcdef01234567", now, now.Add(time.Hour))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := k.sign(payload); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSignAccess is the access token: claims encoded and signed.
func BenchmarkSignAccess(b *testing.B) {
	for _, alg := range []string{RS256, ES256, EdDSA} {
		b.Run(alg, func(b *testing.B) {
			s, _ := benchKey(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.signAccess(&benchCustomer, benchDevice, time.Now(), LoginInfo{}, time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyAccess is what every authenticated request pays before its one database read.
func BenchmarkVerifyAccess(b *testing.B) {
	for _, alg := range []string{RS256, ES256, EdDSA} {
		b.Run(alg, func(b *testing.B) {
			s, _ := benchKey(b, alg)
			tok, err := s.signAccess(&benchCustomer, benchDevice, time.Now(), LoginInfo{}, time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("cold", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.keys.access.reset()
					if _, _, err := s.verifyAccess(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("cached", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := s.verifyAccess(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkVerifyRefresh is the first step of every refresh: an HS256 token under the refresh key,
// and a refresh token the previous release signed with RS256.
func BenchmarkVerifyRefresh(b *testing.B) {
	s, legacy := benchKey(b, RS256)
	now := time.Now()
	rk, err := GenerateRefreshKey(now.Add(-time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	s.keys.set([]SigningKey{legacy.SigningKey, rk})
	payload := s.refreshPayload(benchCustomer.UUID, benchDevice, "0123456789abcdef0123456789abcdef01234567", now, now.Add(time.Hour))
	for _, k := range []*ringKey{s.keys.refreshSignerAt(now), legacy} {
		tok, _, err := k.sign(payload)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(k.Algorithm, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.verifyRefresh(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
