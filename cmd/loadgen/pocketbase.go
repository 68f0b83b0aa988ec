package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"

	"github.com/google/uuid"
)

// -pocketbase BIN runs the same refresh, read and login loads against a PocketBase binary the
// user built (nothing is downloaded here; `go install
// github.com/pocketbase/pocketbase/examples/base@v0.36.8` builds one from the Go module proxy),
// on its default users collection, in the same run as shopauth's, so that the rates read as
// ratios of PocketBase's:
//
//   - refresh: POST /api/collections/users/auth-refresh with the token the client last received.
//     PocketBase's refresh signs a new HS256 token and writes nothing: no rotation, no reuse
//     detection, no write to make durable;
//   - read: GET /api/collections/users/records/{id} with the token (the record's view rule);
//   - login: POST /api/collections/users/auth-with-password (bcrypt).

// runPocketBase starts the PocketBase binary on a fresh data directory and runs the phases.
func runPocketBase(o options, dir string) ([]result, error) {
	hc := newHTTPClient(o.clients)
	s, clients, err := startRegistered(func() (*server, error) {
		return startProcessAt(dir, "pocketbase", o.pocketbase, "/api/health", "--http",
			"serve", "--dev=false", "--dir", filepath.Join(dir, "pb_data"))
	}, hc, func(url string) ([]*client, error) { return registerPocketBase(hc, url, o.clients) })
	if err != nil {
		return nil, err
	}
	defer s.stop()
	fmt.Printf("PocketBase: server pid %d, %d users registered\n", s.pid(), len(clients))
	var out []result
	if o.phases["refresh"] {
		out = append(out, drive(pocketBaseRefresh, "PocketBase (HS256)", s.pid(), clients, o.duration, func(c *client) error {
			token, _, err := pocketBaseAuth(hc, s.url+"/api/collections/users/auth-refresh", c.access, nil)
			if err == nil {
				c.access = token
			}
			return err
		}))
	}
	if o.phases["read"] {
		out = append(out, drive(pocketBaseRead, "PocketBase", s.pid(), clients, o.duration, func(c *client) error {
			_, err := pocketBaseCall(hc, http.MethodGet, s.url+"/api/collections/users/records/"+c.refresh, c.access, nil)
			return err
		}))
	}
	if o.phases["login"] {
		out = append(out, drive(pocketBaseLogin, "PocketBase (bcrypt)", s.pid(), clients, o.duration, func(c *client) error {
			_, _, err := pocketBaseAuth(hc, s.url+"/api/collections/users/auth-with-password", "",
				map[string]any{"identity": c.email, "password": password})
			return err
		}))
	}
	return out, nil
}

// The phases' names, for summarize.
const (
	pocketBaseRefresh = "PocketBase refresh"
	pocketBaseRead    = "PocketBase read"
	pocketBaseLogin   = "PocketBase login"
)

// registerPocketBase creates one user per client and logs each in; a client's refresh field holds
// its record id.
func registerPocketBase(hc *http.Client, url string, n int) ([]*client, error) {
	return registerEach(n, func(i int) (*client, error) {
		c := &client{email: fmt.Sprintf("load%d-%s@example.com", i, uuid.NewString()[:8])}
		_, err := pocketBaseCall(hc, http.MethodPost, url+"/api/collections/users/records", "",
			map[string]any{"email": c.email, "password": password, "passwordConfirm": password})
		if err == nil {
			c.access, c.refresh, err = pocketBaseAuth(hc, url+"/api/collections/users/auth-with-password", "",
				map[string]any{"identity": c.email, "password": password})
		}
		if err != nil {
			return nil, fmt.Errorf("pocketbase register: %w", err)
		}
		return c, nil
	})
}

// pocketBaseAuth calls an auth endpoint and returns the token and the record's id it answers.
func pocketBaseAuth(hc *http.Client, url, token string, in any) (string, string, error) {
	b, err := pocketBaseCall(hc, http.MethodPost, url, token, in)
	if err != nil {
		return "", "", err
	}
	// Cut the token out without a decode, as for shopauth's answers (the client shares the cores).
	t, ok := cutString(b, `"token":"`)
	id, idOK := cutString(b, `"id":"`)
	if !ok || !idOK || !isTokenText(t) {
		var out struct {
			Token  string
			Record struct{ ID string }
		}
		if json.Unmarshal(b, &out) != nil || out.Token == "" || out.Record.ID == "" {
			return "", "", fmt.Errorf("no token in %.200s", b)
		}
		t, id = out.Token, out.Record.ID
	}
	return t, id, nil
}

// pocketBaseCall sends one request (in as a JSON body when not nil) and returns a 200's body.
func pocketBaseCall(hc *http.Client, method, url, token string, in any) ([]byte, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	return send(hc, req)
}
