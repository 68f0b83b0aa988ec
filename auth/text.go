package auth

import "strings"

// cleanText removes what a name must not carry: C0 and C1 control characters (a newline in a name
// becomes a forged line in a mail or a log) and the bidirectional embeddings, overrides and
// isolates U+202A–U+202E and U+2066–U+2069, which make a name read differently from what it is.
// Applied at input, so they are never stored nor mailed.
func cleanText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, r >= 0x7f && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return -1
		}
		return r
	}, s)
}

func cleanOptional(s *string) *string {
	if s == nil {
		return nil
	}
	c := cleanText(*s)
	return &c
}
