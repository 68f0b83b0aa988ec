package web

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// objectMembers returns the raw values of a JSON object's top-level members, as json.Unmarshal
// into a map[string]json.RawMessage would (the last of two members of one name wins), but
// without copying them or decoding what no one reads: a request body is checked once
// (json.Valid) and then only walked. ok is false when body is not a JSON object, or names a
// member with an escape or a byte that is not UTF-8 in its name (then the caller decodes the body
// the slow way).
func objectMembers(body []byte) (members map[string]json.RawMessage, ok bool) {
	if !json.Valid(body) {
		return nil, false
	}
	return validMembers(body)
}

// validMembers is objectMembers of a value known to be valid JSON: one of the members
// objectMembers returned, or a json.RawMessage that json.Unmarshal filled.
func validMembers(body []byte) (members map[string]json.RawMessage, ok bool) {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return nil, false
	}
	members = map[string]json.RawMessage{}
	i = skipSpace(body, i+1)
	for body[i] != '}' {
		end := skipString(body, i)
		name := body[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			return nil, false // json.Unmarshal would unescape it, or replace its bad bytes
		}
		i = skipSpace(body, end)
		i = skipSpace(body, i+1) // past ':'
		end = skipValue(body, i)
		members[string(name)] = body[i:end:end]
		i = skipSpace(body, end)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return members, true
}

// The walkers below trust that the body is valid JSON.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number, true, false or null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}

// plainString returns the text of a JSON string with no escape in it, which is its bytes
// between the quotes; ok is false for any other value (decode it then). raw must be valid JSON.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || bytes.IndexByte(raw, '\\') >= 0 || !utf8.Valid(raw) {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}
