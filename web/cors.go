package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// CheckCORSOrigin refuses an --cors-origins entry that no browser's Origin header can ever equal:
// a browser sends scheme://host[:port], lower case, with no path, no trailing slash, no user
// info and no default port. "*" (any origin) is accepted because shopauth never allows
// credentials (tokens travel in the Authorization header, not in cookies); allowCredentials
// says otherwise, for a caller that does. One "*" inside a host (https://*.shop.cz) is a
// pattern the CORS middleware matches.
func CheckCORSOrigin(origin string, allowCredentials bool) error {
	if origin == "*" {
		if allowCredentials {
			return fmt.Errorf("CORS origin %q: browsers refuse a wildcard origin on requests with credentials; list the origins", origin)
		}
		return nil
	}
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok || scheme == "" {
		return fmt.Errorf("CORS origin %q has no scheme: write https://%s", origin, strings.TrimRight(origin, "/"))
	}
	host, path, hasPath := strings.Cut(rest, "/")
	switch {
	case hasPath && path == "":
		return fmt.Errorf("CORS origin %q ends in a slash, which an Origin header never has: write %s://%s", origin, scheme, host)
	case hasPath:
		return fmt.Errorf("CORS origin %q has a path, which an Origin header never has: write %s://%s", origin, scheme, host)
	case strings.ContainsAny(host, "?#"):
		return fmt.Errorf("CORS origin %q has a query or fragment, which an Origin header never has", origin)
	case strings.Contains(host, "@"):
		return fmt.Errorf("CORS origin %q has user info, which an Origin header never has", origin)
	case host == "":
		return fmt.Errorf("CORS origin %q has no host", origin)
	}
	u, err := url.Parse(strings.Replace(origin, "*", "wildcard", 1))
	if err != nil || u.Host == "" {
		return fmt.Errorf("CORS origin %q is not scheme://host[:port]", origin)
	}
	if strings.ToLower(scheme) != scheme {
		return fmt.Errorf("CORS origin %q: browsers send the scheme in lower case: write %s", origin, strings.ToLower(scheme)+"://"+host)
	}
	if (scheme == "https" && u.Port() == "443") || (scheme == "http" && u.Port() == "80") {
		return fmt.Errorf("CORS origin %q names the default port, which browsers leave out: write %s://%s", origin, scheme, u.Hostname())
	}
	return nil
}

// canonicalRequestHeaders rewrites a preflight's Access-Control-Request-Headers into the form the
// Fetch standard has browsers send (lower case, sorted, no repeats, comma-separated), the only form
// the CORS middleware accepts: a client that writes "Content-Type, Authorization" by hand, as curl
// users and some HTTP libraries do, would otherwise get a preflight without any CORS headers.
func canonicalRequestHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if values, ok := r.Header["Access-Control-Request-Headers"]; ok && r.Method == http.MethodOptions {
			var names []string
			for _, v := range values {
				for name := range strings.SplitSeq(v, ",") {
					if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
						names = append(names, name)
					}
				}
			}
			slices.Sort(names)
			r.Header.Set("Access-Control-Request-Headers", strings.Join(slices.Compact(names), ","))
		}
		next.ServeHTTP(w, r)
	})
}
