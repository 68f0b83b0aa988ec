package web

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzObjectMembers: whatever the body, objectMembers finds what json.Unmarshal into a
// map[string]json.RawMessage finds, or says it cannot (then the handler decodes the slow way);
// it never panics, and plainString reads a string as json.Unmarshal does.
func FuzzObjectMembers(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ a }","variables":{"in":{"refreshToken":"a.b.c"}},"operationName":null}`,
		` { "a" : [1, {"b": "}"}, "\"]"] , "a": -1.5e3 , "c":true,"d":false,"e":null,"f":{}} `,
		`{"q\u0075ery":"x"}`, `{}`, `[]`, `null`, `"x"`, `{"a":"\u00e9\n"}`, "{\"a\":\"\xff\"}",
		`{"a":1}}`, `{"a":1} {}`, `{"a"}`, `{"a":"b","a":"c"}`, `{"":0}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want map[string]json.RawMessage
		wantOK := json.Unmarshal(body, &want) == nil && want != nil
		got, ok := objectMembers(body)
		if ok && !wantOK {
			t.Fatalf("%q: split into %q; json.Unmarshal refuses it", body, got)
		}
		if !ok {
			if wantOK && !bytes.Contains(body, []byte(`\`)) && utf8.Valid(body) {
				t.Fatalf("%q: not split; json.Unmarshal reads %q and it has no escape or bad byte", body, want)
			}
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, json.Unmarshal finds %d", body, len(got), len(want))
		}
		for name, raw := range want {
			if !bytes.Equal(got[name], raw) {
				t.Fatalf("%q: member %q is %q, json.Unmarshal reads %q", body, name, got[name], raw)
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				if p, ok := plainString(raw); ok && p != s {
					t.Fatalf("%q: plainString reads %q, json.Unmarshal %q", raw, p, s)
				}
			} else if _, ok := plainString(raw); ok {
				t.Fatalf("%q: plainString reads a value json.Unmarshal does not read as a string", raw)
			}
		}
	})
}
