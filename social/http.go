// Package social holds the identity provider adapters of social login: Google, Apple and a generic
// OpenID Connect provider (go-oidc for discovery and id_token checks), Facebook and Seznam (plain
// OAuth 2 and their profile APIs). Each turns a provider's answer into an auth.Identity and decides
// nothing; the linking rules live in package auth.
//
// Every call to a provider is bounded: Options.Timeout for the whole exchange (token, keys,
// profile), Options.MaxResponseBytes for each answer; any failure wraps auth.ErrProvider.
package social

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"shopauth/auth"
)

// Options bound every provider call. The zero value means the defaults.
type Options struct {
	// Timeout bounds one exchange with the provider as a whole (default 10 s), and OpenID
	// Connect discovery.
	Timeout time.Duration
	// MaxResponseBytes bounds each answer the provider sends (default 1 MiB).
	MaxResponseBytes int64
	// Now is the clock id_tokens are checked against (default time.Now).
	Now func() time.Time
	// Transport carries the requests (default http.DefaultTransport).
	Transport http.RoundTripper
	// Log receives what the caller cannot be told (a discovery failure behind AuthCodeURL's "").
	Log *slog.Logger
}

const (
	defaultTimeout          = 10 * time.Second
	defaultMaxResponseBytes = 1 << 20
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = defaultMaxResponseBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	return o
}

func (o Options) logger() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// httpClient is the client every provider request goes through: each request is bounded by the
// timeout and each answer by the size limit (an answer over it is an error, not a truncation that
// might still parse).
func (o Options) httpClient() *http.Client {
	return &http.Client{Timeout: o.Timeout, Transport: limitTransport{o.Transport, o.MaxResponseBytes}}
}

// bounded returns ctx limited to the exchange timeout and carrying the bounded client, which
// x/oauth2 and go-oidc both take from oauth2.HTTPClient.
func (o Options) bounded(ctx context.Context, client *http.Client) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	return context.WithValue(ctx, oauth2.HTTPClient, client), cancel
}

type limitTransport struct {
	next http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%s answered %d bytes, more than the limit of %d", r.URL.Redacted(), resp.ContentLength, t.max)
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.max}
	return resp, nil
}

// errTooLarge is what reading past the size limit returns.
var errTooLarge = errors.New("provider answer larger than the size limit")

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body that ends exactly at the limit from one that goes on.
		var one [1]byte
		if n, _ := io.ReadFull(b.ReadCloser, one[:]); n > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// providerError wraps err as auth.ErrProvider, naming the provider and the step that failed.
func providerError(typ, step string, err error) error {
	return fmt.Errorf("%w: %s %s: %w", auth.ErrProvider, typ, step, err)
}

// getJSON fetches url with the access token and returns the body (bounded by the client).
func getJSON(ctx context.Context, client *http.Client, url, accessToken string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		if len(body) > 200 {
			body = body[:200]
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, body)
	}
	return body, nil
}
