package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// whoAmI asks the server who the access token belongs to and returns the HTTP status.
func whoAmI(t *testing.T, url, access string) int {
	t.Helper()
	return gql(t, url, `{ currentCustomerUser { email } }`, nil, bearer(access)).Status
}

func TestCustomersListAndShow(t *testing.T) {
	m := startServer(t, nil)
	url, dbPath := m.URL(), m.DBPath
	anna := register(t, url, "anna@shop.cz", "correct horse")
	register(t, url, "bert@shop.cz", "correct horse")
	login(t, url, "anna@shop.cz", "correct horse").Token(t, "Login")
	customers := func(stdin string, args ...string) (int, string, string) {
		return runArgs(t, stdin, append(append([]string{"customers"}, args...), "--db", dbPath)...)
	}

	code, stdout, stderr := customers("", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^EMAIL +FIRST NAME +LAST NAME +UUID +CREATED +LAST LOGIN +SESSIONS\n`+
		`anna@shop\.cz +Jaromír +Jágr +[0-9a-f-]{36} +\S+ \S+ +\S+ \S+ +2\n`+
		`bert@shop\.cz .* 1\n$`).MatchString(stdout) {
		t.Errorf("list: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, _ = customers("", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || len(list) != 2 {
		t.Fatalf("list --json: exit %d, %v\n%s", code, err, stdout)
	}
	for _, key := range []string{"email", "firstName", "lastName", "uuid", "createdAt", "lastLoginAt", "sessions"} {
		if _, ok := list[0][key]; !ok {
			t.Errorf("list --json lacks %q: %v", key, list[0])
		}
	}
	if list[0]["email"] != "anna@shop.cz" || list[0]["sessions"] != 2.0 || list[0]["lastLoginAt"] == nil {
		t.Errorf("anna in JSON: %v", list[0])
	}

	code, stdout, _ = customers("", "list", "--json", "--search", "BERT")
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || len(list) != 1 || list[0]["email"] != "bert@shop.cz" {
		t.Errorf("list --search BERT: exit %d %v\n%s", code, err, stdout)
	}
	if code, stdout, _ = customers("", "list", "--json", "--search", "nobody"); code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("list matching nobody: exit %d %q, want []", code, stdout)
	}

	code, stdout, stderr = customers("", "show", "anna@shop.cz")
	if code != 0 || !strings.Contains(stdout, "email       anna@shop.cz\n") || !strings.Contains(stdout, "sessions    2\n") ||
		strings.Count(stdout, " UTC") != 0 || !strings.Contains(stdout, "Sessions (newest first):") {
		t.Errorf("show: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = customers("", "show", "--json", "ANNA@shop.cz")
	var one map[string]any
	if err := json.Unmarshal([]byte(stdout), &one); code != 0 || err != nil || one["email"] != "anna@shop.cz" {
		t.Fatalf("show --json: exit %d %v\n%s", code, err, stdout)
	}
	if sessions, _ := one["sessionList"].([]any); len(sessions) != 2 {
		t.Errorf("show --json sessionList: %v", one["sessionList"])
	}

	// Never a password hash, whatever the command prints.
	for _, args := range [][]string{{"list"}, {"list", "--json"}, {"show", "anna@shop.cz"}, {"show", "anna@shop.cz", "--json"}} {
		if _, out, _ := customers("", args...); strings.Contains(out, "argon2") || strings.Contains(out, "$2") {
			t.Errorf("%v prints a password hash:\n%s", args, out)
		}
	}
	if whoAmI(t, url, anna.AccessToken) != http.StatusOK {
		t.Error("reading changed something")
	}
}

// TestCustomersChangesReachTheServer: what the operator does beside a running server takes
// effect at once, because every authenticated request reads the session.
func TestCustomersChangesReachTheServer(t *testing.T) {
	m := startServer(t, nil)
	url, dbPath := m.URL(), m.DBPath
	anna := register(t, url, "anna@shop.cz", "correct horse")
	bert := register(t, url, "bert@shop.cz", "correct horse")
	cyril := register(t, url, "cyril@shop.cz", "correct horse")
	cmd := func(stdin string, args ...string) (int, string, string) {
		return runArgs(t, stdin, append(args, "--db", dbPath)...)
	}

	code, stdout, stderr := cmd("new password 1\n", "customers", "set-password", "anna@shop.cz")
	if code != 0 || stdout != "password of anna@shop.cz set; 1 sessions ended\n" {
		t.Fatalf("set-password: exit %d\n%s%s", code, stdout, stderr)
	}
	if s := whoAmI(t, url, anna.AccessToken); s != http.StatusUnauthorized {
		t.Errorf("anna's old access token after set-password: %d, want 401", s)
	}
	login(t, url, "anna@shop.cz", "new password 1").Token(t, "Login")

	code, stdout, stderr = cmd("", "customers", "revoke", "bert@shop.cz")
	if code != 0 || stdout != "1 sessions of bert@shop.cz ended\n" {
		t.Fatalf("revoke: exit %d\n%s%s", code, stdout, stderr)
	}
	if s := whoAmI(t, url, bert.AccessToken); s != http.StatusUnauthorized {
		t.Errorf("bert's access token after revoke: %d, want 401", s)
	}
	refresh(t, url, bert.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
	login(t, url, "bert@shop.cz", "correct horse").Token(t, "Login") // the password stays

	_, before, _ := cmd("", "customers", "show", "cyril@shop.cz", "--json")
	var c map[string]any
	json.Unmarshal([]byte(before), &c)
	code, stdout, stderr = cmd("", "customers", "delete", "cyril@shop.cz")
	if code != 0 || stdout != "customer cyril@shop.cz deleted; 1 sessions ended\n" {
		t.Fatalf("delete: exit %d\n%s%s", code, stdout, stderr)
	}
	if s := whoAmI(t, url, cyril.AccessToken); s != http.StatusUnauthorized {
		t.Errorf("cyril's access token after delete: %d, want 401", s)
	}
	refresh(t, url, cyril.RefreshToken).WantError(t, 200, "Token is not valid.", "invalid-token")
	login(t, url, "cyril@shop.cz", "correct horse").WantError(t, 200, "Log in failed.", "invalid-credentials")
	if code, _, stderr := cmd("", "customers", "show", "cyril@shop.cz"); code != 1 || !strings.Contains(stderr, "no customer has the email cyril@shop.cz") {
		t.Errorf("show after delete: exit %d\n%s", code, stderr)
	}

	// The audit log: newest first, the deleted customer by UUID only.
	code, stdout, stderr = cmd("", "audit")
	uuid, _ := c["uuid"].(string)
	want := regexp.MustCompile(`^TIME +CUSTOMER +DEVICE +REMOTE +EVENT\n` +
		`\S+ \S+ +` + regexp.QuoteMeta(uuid) + ` \(deleted\) +- +- +customer deleted by the operator\n` +
		`\S+ \S+ +bert@shop\.cz +- +- +sessions revoked by the operator\n` +
		`\S+ \S+ +anna@shop\.cz +- +- +password set by the operator\n$`)
	if code != 0 || uuid == "" || !want.MatchString(stdout) {
		t.Errorf("audit: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = cmd("", "audit", "--json", "--customer", "bert@shop.cz", "--since", "1h")
	var events []map[string]any
	if err := json.Unmarshal([]byte(stdout), &events); code != 0 || err != nil || len(events) != 1 ||
		events[0]["reason"] != "sessions revoked by the operator" || events[0]["email"] != "bert@shop.cz" {
		t.Errorf("audit --customer bert --json: exit %d %v\n%s", code, err, stdout)
	}
	if _, stdout, _ := cmd("", "audit", "--json"); strings.Contains(stdout, "cyril") {
		t.Errorf("the audit log keeps the deleted customer's email:\n%s", stdout)
	}
	// The deleted customer's events are found by UUID; days count as an audit asks in them.
	code, stdout, stderr = cmd("", "audit", "--json", "--customer", uuid, "--since", "7d")
	events = nil
	if err := json.Unmarshal([]byte(stdout), &events); code != 0 || err != nil || len(events) != 1 ||
		events[0]["reason"] != "customer deleted by the operator" || events[0]["customerUuid"] != uuid {
		t.Errorf("audit --customer UUID of the deleted customer --since 7d: exit %d %v\n%s%s", code, err, stdout, stderr)
	}
}
