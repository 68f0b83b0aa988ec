package auth

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestReadRefreshPayload(t *testing.T) {
	s := &Service{cfg: Config{Issuer: "https://shop.example.com/auth"}}
	now := time.Unix(1_790_000_000, 0)
	written := string(s.refreshPayload("0b6e7c4e-3b1b-4c55-9a8e-2f7a3c9b1d10", "5d0f3a5e-1b1b-4c55-9a8e-2f7a3c9b1d11", "c2VjcmV0", now, now.Add(time.Hour)))
	for _, tc := range []struct {
		name, payload string
		read          bool // by readRefreshPayload itself, not handed to json.Unmarshal
	}{
		{"as refreshPayload writes it", written, true},
		{"a negative and a zero time", `{"iss":"a","aud":"b","iat":-5,"exp":0,"uuid":"u","secretChain":"s","deviceId":"d"}`, true},
		{"empty strings", `{"iss":"","aud":"","iat":1,"exp":2,"uuid":"","secretChain":"","deviceId":""}`, true},
		{"another order", `{"aud":"b","iss":"a","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"a space", `{"iss": "a","aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"an escape", `{"iss":"a\u0041","aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"not ASCII", `{"iss":"é","aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"a leading zero", `{"iss":"a","aud":"b","iat":01,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"a fraction", `{"iss":"a","aud":"b","iat":1.5,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"an exponent", `{"iss":"a","aud":"b","iat":1e3,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"past int64", `{"iss":"a","aud":"b","iat":9223372036854775808,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"a string time", `{"iss":"a","aud":"b","iat":"1","exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"a member more", `{"iss":"a","aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d","email":"x"}`, false},
		{"a member less", `{"iss":"a","aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s"}`, false},
		{"text after", `{"iss":"a","aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"} `, false},
		{"null", `{"iss":null,"aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d"}`, false},
		{"cut short", `{"iss":"a","aud":"b","iat":1,"exp":2,"uuid":"u","secretChain":"s","deviceId":"d`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := readRefreshPayload([]byte(tc.payload))
			if ok != tc.read {
				t.Fatalf("read = %v, want %v", ok, tc.read)
			}
			if ok {
				sameAsUnmarshal(t, tc.payload, got)
			}
		})
	}
}

// sameAsUnmarshal fails unless json.Unmarshal reads payload as got.
func sameAsUnmarshal(t *testing.T, payload string, got refreshWire) {
	t.Helper()
	var want refreshWire
	if err := json.Unmarshal([]byte(payload), &want); err != nil {
		t.Fatalf("read a payload json.Unmarshal refuses (%v): %s", err, payload)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %s as %+v, json.Unmarshal as %+v", payload, got, want)
	}
}

// FuzzReadRefreshPayload checks that whatever readRefreshPayload reads, json.Unmarshal reads alike.
func FuzzReadRefreshPayload(f *testing.F) {
	f.Add(`{"iss":"https://shop.example.com","aud":"https://shop.example.com","iat":1790000000,"exp":1792592000,"uuid":"0b6e7c4e-3b1b-4c55-9a8e-2f7a3c9b1d10","secretChain":"abc","deviceId":"d"}`)
	f.Add(`{"iss":"a","aud":"b","iat":-0,"exp":10,"uuid":"u","secretChain":"s","deviceId":"d"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		if got, ok := readRefreshPayload([]byte(payload)); ok {
			sameAsUnmarshal(t, payload, got)
		}
	})
}
