package socialtest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
)

// Authorize does what a browser does with a login URL pointing at a stand-in (a provider's
// AuthCodeURL, or where shopauth's /social-network/login/TYPE redirects): it opens it and returns
// what the stand-in sends back to the redirect URI, the query of its 302 or the fields of its
// form_post page (Apple), without going there.
func Authorize(loginURL string) (url.Values, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(loginURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusFound:
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			return nil, err
		}
		return loc.Query(), nil
	case http.StatusOK:
		fields := url.Values{}
		for _, m := range formField.FindAllStringSubmatch(string(body), -1) {
			fields.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		return fields, nil
	}
	return nil, fmt.Errorf("authorize answered %s: %s", resp.Status, body)
}

var formField = regexp.MustCompile(`name="([^"]*)" value="([^"]*)"`)
