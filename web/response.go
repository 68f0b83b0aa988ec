package web

import (
	"encoding/json"

	graphql "github.com/graph-gophers/graphql-go"
)

// marshalResponse is json.Marshal(resp), byte for byte, without its second pass over the data in
// the common answer: data and nothing else. json.Marshal checks a json.RawMessage, compacts it and
// escapes <, > and & and U+2028/U+2029 in it, scanning the whole answer again (two tokens make it
// over a kilobyte). graphql-go writes the data compact and valid; when it holds whitespace outside
// a string or any character json.Marshal would escape, or errors or extensions come with it, the
// answer goes through json.Marshal.
func marshalResponse(resp *graphql.Response) ([]byte, error) {
	if len(resp.Errors) > 0 || resp.Extensions != nil || len(resp.Data) == 0 || !plainCompact(resp.Data) {
		return json.Marshal(resp)
	}
	body := make([]byte, 0, len(`{"data":}`)+len(resp.Data))
	body = append(body, `{"data":`...)
	body = append(body, resp.Data...)
	return append(body, '}'), nil
}

// plainCompact reports whether b is a JSON object or array with no whitespace outside its strings
// and none of the characters json.Marshal escapes in a RawMessage (<, >, &, U+2028, U+2029) or a
// control character. It does not check the JSON otherwise: graphql-go wrote it.
func plainCompact(b []byte) bool {
	if b[0] != '{' && b[0] != '[' {
		return false
	}
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !compactSpecial[c] {
			escaped = false
			continue
		}
		switch {
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2:
			if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
				return false
			}
			escaped = false
		case c == ' ':
			if !inString {
				return false
			}
			escaped = false
		case escaped: // the character after a backslash: \" or \\
			escaped = false
		case c == '\\':
			escaped = inString
		case c == '"':
			inString = !inString
		}
	}
	return !inString
}

// compactSpecial marks the bytes plainCompact looks at; the rest it skips.
var compactSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for _, c := range []byte{' ', '"', '\\', '<', '>', '&', 0xE2} {
		t[c] = true
	}
	return t
}()
