package auth

import (
	"regexp"
	"strings"
	"testing"
)

// TestUUIDAndSecretChecks: isUUID and isSecret accept exactly what the regular expressions they
// replaced accepted.
func TestUUIDAndSecretChecks(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	secretRE := regexp.MustCompile(`^[0-9a-f]{40}$`)
	good := "0b6e7c4e-3b1b-4c55-9a8e-000000000001"
	secret := strings.Repeat("0123456789abcdef", 3)[:40]
	inputs := []string{"", good, strings.ToUpper(good), good + "\n", "\n" + good, good[:35], good + "0",
		strings.ReplaceAll(good, "-", "0"), "0b6e7c4e3b1b-4c55-9a8e-0000000000011", "0b6e7c4e-3b1b-4c55-9a8e-00000000000g",
		secret, secret + "\n", secret[:39], secret + "a", strings.ToUpper(secret), secret[:39] + "-", "é" + secret[2:]}
	// Every position of both shapes with each character that matters there or does not.
	for _, base := range []string{good, secret} {
		for i := range len(base) {
			for _, c := range []byte{'-', '0', '9', 'a', 'f', 'g', 'A', '/', ':', '`', 0, 0xff} {
				b := []byte(base)
				b[i] = c
				inputs = append(inputs, string(b))
			}
		}
	}
	for _, in := range inputs {
		if got, want := isUUID(in), uuidRE.MatchString(in); got != want {
			t.Errorf("isUUID(%q) = %v, the regular expression says %v", in, got, want)
		}
		if got, want := isSecret(in), secretRE.MatchString(in); got != want {
			t.Errorf("isSecret(%q) = %v, the regular expression says %v", in, got, want)
		}
	}
}
