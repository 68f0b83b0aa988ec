package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"shopauth/internal/servetest"
	"shopauth/internal/testkit"
)

// TestUpgradeFromThePreviousRelease builds the previous release (CHANGELOG.md's second entry names
// its commit) from git history, runs it on a database, reads the database with this build while the
// old server runs (refused if the schema is older, and never upgraded), stops it, starts this build
// on the same file and checks that nobody is logged out: the old release's access tokens
// authenticate, its refresh tokens keep refreshing (RS256 ones of releases before 0.2.0 included),
// and a grace replay of a token the old release rotated returns the byte-identical successor that
// release issued, across the restart.
func TestUpgradeFromThePreviousRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two releases and runs both")
	}
	prev := previousRelease(t)
	dir := t.TempDir()
	oldBin, newBin := filepath.Join(dir, "shopauth-old"), servetest.Binary(t)
	buildRevision(t, prev, oldBin)
	// The grace replay is made after a restart; on a loaded machine that can take longer than the
	// default 10 s interval. Both releases read the interval from the environment.
	t.Setenv("SHOPAUTH_REFRESH_REUSE_INTERVAL", "10m")
	dbPath := filepath.Join(dir, "shop.db")

	old := servetest.Start(t, oldBin, dbPath)
	kept := testkit.Register(t, old.URL, "kept@example.com", "correct horse")       // refreshed only by the new release
	rotated := testkit.Register(t, old.URL, "rotated@example.com", "correct horse") // rotated by the old release
	successor := testkit.Refresh(t, old.URL, rotated.RefreshToken).Token(t, "RefreshTokens")

	// A read by the new binary while the old server runs (a rollback, an operator's audit) leaves
	// the old server's database as it is: refused if its schema is older, never upgraded.
	before, latest := schemaVersions(t, newBin, dbPath)
	read := exec.Command(newBin, "audit", "--db", dbPath)
	out, err := read.CombinedOutput()
	if before < latest {
		for _, want := range []string{fmt.Sprintf("database schema version %d is older than this binary's (%d)", before, latest), "shopauth db migrate"} {
			if read.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), want) {
				t.Errorf("the new binary's audit on schema %d: %v, want exit 1 naming %q:\n%s", before, err, want, out)
			}
		}
	} else if err != nil {
		t.Errorf("the new binary's audit on the same schema (%d): %v\n%s", before, err, out)
	}
	if after, _ := schemaVersions(t, newBin, dbPath); after != before {
		t.Fatalf("the new binary's audit moved the old server's schema from %d to %d", before, after)
	}
	gqlOK(t, old.URL, kept.AccessToken) // the old server still serves
	old.Stop(t)

	cur := servetest.Start(t, newBin, dbPath)
	url := cur.URL
	if want := fmt.Sprintf("migrated the database from schema %d to %d", before, latest); before < latest && !strings.Contains(cur.Log(), want) {
		t.Errorf("the new server's log lacks %q:\n%s", want, cur.Log())
	}

	// The old release's access token authenticates.
	me := testkit.GQL(t, url, `{ currentCustomerUser { email } }`, nil, testkit.Bearer(kept.AccessToken))
	if me.Status != 200 || !strings.Contains(string(me.Data["currentCustomerUser"]), "kept@example.com") {
		t.Errorf("old access token after the upgrade: %d %s", me.Status, me.Raw)
	}

	// Grace across the upgrade: the token the old release rotated gets the very successor it issued.
	again := testkit.Refresh(t, url, rotated.RefreshToken).Token(t, "RefreshTokens")
	if again.RefreshToken != successor.RefreshToken {
		t.Errorf("grace replay across the upgrade answered another refresh token:\n got %s\nwant %s", again.RefreshToken, successor.RefreshToken)
	}
	gqlOK(t, url, again.AccessToken)

	// The old release's refresh tokens keep refreshing; their successors are HS256 and refresh in turn.
	for name, tok := range map[string]string{"never rotated": kept.RefreshToken, "the old release's successor": successor.RefreshToken} {
		next := testkit.Refresh(t, url, tok).Token(t, "RefreshTokens")
		h, _ := testkit.DecodeJWT(t, next.RefreshToken)
		if h["alg"] != "HS256" {
			t.Errorf("%s: successor header %v, want HS256", name, h)
		}
		if _, access := testkit.DecodeJWT(t, next.AccessToken); access["nbf"] == nil {
			t.Errorf("%s: new access token has no nbf: %v", name, access)
		}
		gqlOK(t, url, next.AccessToken)
		testkit.Refresh(t, url, next.RefreshToken).Token(t, "RefreshTokens")
		// The HS256 refresh token is never a bearer.
		if r := testkit.GQL(t, url, `{ currentCustomerUser { email } }`, nil, testkit.Bearer(next.RefreshToken)); r.Status != 401 && len(r.Errors) == 0 {
			t.Errorf("%s: the refresh token was accepted as a bearer: %d %s", name, r.Status, r.Raw)
		}
	}

	// The old release's access key is still in the JWKS, beside no HS256 key.
	resp, err := http.Get(url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	res := string(body)
	oldHeader, _ := testkit.DecodeJWT(t, kept.AccessToken)
	if !strings.Contains(res, oldHeader["kid"].(string)) || strings.Contains(res, "HS256") {
		t.Errorf("JWKS after the upgrade: %s", res)
	}
	cur.Stop(t)
}

// previousRelease is the commit CHANGELOG.md's second entry names ("Commit: HASH"), the release
// before this one. Without git history holding it the test is skipped.
func previousRelease(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: cannot build the previous release from history")
	}
	changelog, err := os.ReadFile(filepath.Join(servetest.ModuleRoot(), "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	entries := strings.Split(string(changelog), "\n## ")
	if len(entries) < 3 {
		t.Fatalf("CHANGELOG.md has %d releases; the upgrade test needs a previous one", len(entries)-1)
	}
	commit := regexp.MustCompile(`(?m)^Commit: ([0-9a-f]{40})\b`).FindStringSubmatch(entries[2])
	if commit == nil {
		t.Fatalf("CHANGELOG.md's previous release (## %s) names no commit (Commit: HASH)", strings.SplitN(entries[2], "\n", 2)[0])
	}
	if err := exec.Command("git", "cat-file", "-e", commit[1]+"^{commit}").Run(); err != nil {
		t.Skipf("the previous release's commit %s is not in this clone (shallow?): cannot build it", commit[1][:12])
	}
	return commit[1]
}

// buildRevision exports a commit's tree with git archive (the repository is left untouched) and
// builds it.
func buildRevision(t *testing.T, rev, bin string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := exec.Command("git", "archive", "--format=tar", rev)
	archive.Dir = servetest.ModuleRoot() // from a subfolder git archives only that folder
	var tarball bytes.Buffer
	archive.Stdout = &tarball
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s: %v", rev, err)
	}
	untar := exec.Command("tar", "-x", "-C", src)
	untar.Stdin = &tarball
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if _, err := servetest.Build(src, bin); err != nil {
		t.Fatalf("the release %s: %v", rev[:12], err)
	}
}

// schemaVersions are the database's schema version and the binary's, as shopauth db status says
// them (it changes nothing).
func schemaVersions(t *testing.T, bin, dbPath string) (database, binary int) {
	t.Helper()
	out, err := exec.Command(bin, "db", "status", "--db", dbPath).CombinedOutput()
	if err != nil {
		t.Fatalf("shopauth db status: %v\n%s", err, out)
	}
	for _, v := range []struct {
		prefix string
		into   *int
	}{{"schema version: ", &database}, {"this binary's schema version: ", &binary}} {
		m := regexp.MustCompile(`(?m)^` + v.prefix + `(\d+)$`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("shopauth db status does not say %q:\n%s", v.prefix, out)
		}
		*v.into, _ = strconv.Atoi(string(m[1]))
	}
	return database, binary
}

func gqlOK(t *testing.T, url, access string) {
	t.Helper()
	r := testkit.GQL(t, url, `{ currentCustomerUser { email } }`, nil, testkit.Bearer(access))
	var cu struct{ Email string }
	if r.Status != 200 || len(r.Errors) > 0 || json.Unmarshal(r.Data["currentCustomerUser"], &cu) != nil || cu.Email == "" {
		t.Errorf("access token refused: %d %s", r.Status, r.Raw)
	}
}
