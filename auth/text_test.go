package auth

import (
	"context"
	"testing"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Jan Novák", "Jan Novák"},
		{"newline and tab", "Jan\r\nBcc: x@y.cz\t", "JanBcc: x@y.cz"},
		{"NUL and DEL", "A\x00B\x7fC", "ABC"},
		{"C1 controls", "A\u0085B\u009bC", "ABC"},
		{"right-to-left override", "\u202egnp.exe", "gnp.exe"},
		{"every embedding and override", "a\u202ab\u202bc\u202cd\u202de\u202ef", "abcdef"},
		{"isolates", "a\u2066b\u2067c\u2068d\u2069e", "abcde"},
		{"other format characters stay (joiners in scripts that need them)", "a\u200db", "a\u200db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in); got != tt.want {
				t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNamesStoredClean: controls and bidi overrides never reach storage, and a
// name of nothing else is blank.
func TestNamesStoredClean(t *testing.T) {
	store := newStore(t)
	cfg := DefaultConfig()
	cfg.SigningAlgorithm = ES256
	svc, err := New(context.Background(), store, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tel := "605\n000"
	if _, err := svc.Register(context.Background(), RegisterInput{FirstName: "Jan\u202e", LastName: "No\x1bvák",
		Email: "clean@shop.cz", Password: "correct horse", Telephone: &tel}); err != nil {
		t.Fatal(err)
	}
	c, err := store.CustomerByEmail(context.Background(), "clean@shop.cz")
	if err != nil || c.FirstName != "Jan" || c.LastName != "Novák" || c.Telephone == nil || *c.Telephone != "605000" {
		t.Fatalf("stored %q %q %v, %v", c.FirstName, c.LastName, c.Telephone, err)
	}
	_, err = svc.ChangePersonalData(context.Background(), &Principal{Customer: c}, PersonalData{FirstName: "\u202e\u2066", LastName: "B"})
	if ErrorCode(err) != EValidation {
		t.Fatalf("a first name of only controls: %v, want validation", err)
	}
}
