package web

import (
	"bytes"
	"encoding/json"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// TestMarshalResponseIsJSONMarshal: the shortcut answers exactly what json.Marshal answers, for the
// data it takes and for every answer it hands over.
func TestMarshalResponseIsJSONMarshal(t *testing.T) {
	tokens := `{"RefreshTokens":{"accessToken":"eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln","refreshToken":"eyJ9.e30.c2ln"}}`
	for _, tc := range []struct {
		name     string
		resp     graphql.Response
		shortcut bool
	}{
		{"tokens", graphql.Response{Data: json.RawMessage(tokens)}, true},
		{"escaped quote and backslash in a string", graphql.Response{Data: json.RawMessage(`{"a":"x\"y\\","b":[1,null,true]}`)}, true},
		{"space in a string", graphql.Response{Data: json.RawMessage(`{"name":"Jan Novák"}`)}, true},
		{"space outside strings", graphql.Response{Data: json.RawMessage(`{"a": 1}`)}, false},
		{"newline outside strings", graphql.Response{Data: json.RawMessage("{\"a\":1\n}")}, false},
		{"less-than", graphql.Response{Data: json.RawMessage(`{"a":"<script>"}`)}, false},
		{"ampersand", graphql.Response{Data: json.RawMessage(`{"a":"x&y"}`)}, false},
		{"line separator", graphql.Response{Data: json.RawMessage("{\"a\":\"x\u2028y\"}")}, false},
		{"paragraph separator", graphql.Response{Data: json.RawMessage("{\"a\":\"x\u2029y\"}")}, false},
		{"data null", graphql.Response{Data: json.RawMessage(`null`)}, false},
		{"no data", graphql.Response{}, false},
		{"errors", graphql.Response{Data: json.RawMessage(`{"a":null}`), Errors: []*gqlerrors.QueryError{{Message: "Token is not valid.", Path: []any{"a"}}}}, false},
		{"extensions", graphql.Response{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"x": 1}}, false},
		{"unterminated string", graphql.Response{Data: json.RawMessage(`{"a":"x}`)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(tc.resp.Data) > 0 && len(tc.resp.Errors) == 0 && tc.resp.Extensions == nil && plainCompact(tc.resp.Data); got != tc.shortcut {
				t.Errorf("shortcut taken = %v, want %v", got, tc.shortcut)
			}
			want, wantErr := json.Marshal(&tc.resp)
			got, err := marshalResponse(&tc.resp)
			if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) {
				t.Errorf("marshalResponse = %s, %v; json.Marshal = %s, %v", got, err, want, wantErr)
			}
		})
	}
}

func BenchmarkMarshalResponse(b *testing.B) {
	resp := &graphql.Response{Data: json.RawMessage(`{"RefreshTokens":{"accessToken":"` + string(bytes.Repeat([]byte("eyJhbGciOiJFZERTQSJ9"), 30)) +
		`","refreshToken":"` + string(bytes.Repeat([]byte("eyJhbGciOiJIUzI1NiJ9"), 20)) + `"}}`)}
	for _, bc := range []struct {
		name string
		f    func(any) ([]byte, error)
	}{
		{"json.Marshal", json.Marshal},
		{"marshalResponse", func(any) ([]byte, error) { return marshalResponse(resp) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.f(resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
