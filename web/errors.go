package web

import (
	"encoding/json"
	"net/http"
)

// errorBody is the GraphQL errors shape of every error web answers itself, so a client parses
// one kind of error body whether or not the request reached GraphQL.
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string          `json:"message"`
	Extensions *errorExtension `json:"extensions,omitempty"`
}

type errorExtension struct {
	UserCode string `json:"userCode"`
}

// writeError is web's one JSON error writer. userCode, when not empty, becomes
// extensions.userCode, as GraphQL's own errors carry it.
func writeError(w http.ResponseWriter, status int, message, userCode string) {
	entry := errorEntry{Message: message}
	if userCode != "" {
		entry.Extensions = &errorExtension{UserCode: userCode}
	}
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{entry}})
	h := w.Header()
	h.Set("Content-Type", mediaJSON+"; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}
