package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"shopauth/auth"
)

// The operator's commands about customers: customers list|show|set-password|revoke|delete, and
// audit. They go through auth, as the server does, so the same rules hold: a password is checked
// as ChangePassword checks it, and every session ends with it.

func runCustomersList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("customers list", `customers list [--search TEXT] [--json] [--db FILE]

Lists the customers, oldest first: email, name, UUID, when they registered and last logged in,
and how many live sessions (devices) they have. Never a password hash.`, stdout, stderr)
	search := fs.String("search", "", "only customers whose email or name contains `TEXT` (any case), or whose UUID it is")
	asJSON := fs.Bool("json", false, "print one JSON array of objects")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	d, svc, err := openService(ctx, *dbPath, existingDB, auth.DefaultConfig(), stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := svc.ListCustomers(ctx, *search)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]customerJSON, 0, len(list))
		for _, c := range list {
			out = append(out, newCustomerJSON(c))
		}
		return writeJSON(stdout, out)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tFIRST NAME\tLAST NAME\tUUID\tCREATED\tLAST LOGIN\tSESSIONS")
	for _, c := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", c.Email, oneLine(c.FirstName), oneLine(c.LastName), c.UUID,
			textTime(c.CreatedAt), textTime(c.LastLoginAt), c.Sessions)
	}
	return w.Flush()
}

// customerJSON is a customer as `customers list --json` and `customers show --json` print it.
type customerJSON struct {
	Email       string        `json:"email"`
	FirstName   string        `json:"firstName"`
	LastName    string        `json:"lastName"`
	Telephone   *string       `json:"telephone"`
	UUID        string        `json:"uuid"`
	CreatedAt   string        `json:"createdAt"`
	LastLoginAt *string       `json:"lastLoginAt"` // null if never
	Sessions    int           `json:"sessions"`
	SessionList []sessionJSON `json:"sessionList,omitempty"`
	Audit       []auditJSON   `json:"audit,omitempty"`
	// customers show only: whether the address is proven, whether a password is set, linked accounts.
	EmailVerified *bool          `json:"emailVerified,omitempty"`
	HasPassword   *bool          `json:"hasPassword,omitempty"`
	Identities    []identityJSON `json:"socialIdentities,omitempty"`
}

type identityJSON struct {
	Type       string  `json:"type"`
	ExternalID string  `json:"externalId"`
	Email      string  `json:"email"`
	LinkedAt   string  `json:"linkedAt"`
	LastUsedAt *string `json:"lastUsedAt"`
}

type sessionJSON struct {
	DeviceID        string  `json:"deviceId"`
	CreatedAt       string  `json:"createdAt"`
	LastRefreshedAt *string `json:"lastRefreshedAt"`
	ExpiresAt       string  `json:"expiresAt"`
}

type auditJSON struct {
	At           string `json:"at"`
	Reason       string `json:"reason"`
	CustomerUUID string `json:"customerUuid,omitempty"`
	Email        string `json:"email,omitempty"` // absent once the customer is deleted
	DeviceID     string `json:"deviceId,omitempty"`
	RemoteAddr   string `json:"remoteAddr,omitempty"`
	Operator     string `json:"operator,omitempty"` // the admin console operator who acted
}

func newCustomerJSON(c auth.CustomerSummary) customerJSON {
	return customerJSON{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Telephone: c.Telephone,
		UUID: c.UUID, CreatedAt: jsonTime(c.CreatedAt), LastLoginAt: optionalTime(c.LastLoginAt), Sessions: c.Sessions}
}

func newAuditJSON(e auth.AuditEvent) auditJSON {
	return auditJSON{At: jsonTime(e.At), Reason: e.Reason, CustomerUUID: e.CustomerUUID, Email: e.Email,
		DeviceID: e.DeviceID, RemoteAddr: e.RemoteAddr, Operator: e.Operator}
}

func jsonTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := jsonTime(t)
	return &s
}

// textTime is a time for a table: UTC to the second, or "never".
func textTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// oneLine keeps a stored value from breaking a table row or forging one.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// emailCommand parses a command that takes one EMAIL and flags before or after it.
func emailCommand(fs *flag.FlagSet, args []string) (string, error) {
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return "", err
	}
	if len(positional) == 2 && fs.Name() == "shopauth customers set-password" {
		return "", usageError(fs, "the new password is not an argument (it would stay in the shell history and the process list): "+
			"give EMAIL alone and type the password when asked, or pipe it in: printf '%%s\\n' \"$PASSWORD\" | shopauth customers set-password EMAIL")
	}
	if len(positional) != 1 || strings.TrimSpace(positional[0]) == "" {
		return "", usageError(fs, "name one customer's EMAIL")
	}
	return positional[0], nil
}

// customerError words the domain's answer for the operator: which email is unknown, or what is
// wrong with the input.
func customerError(err error) error {
	var e *auth.Error
	if errors.As(err, &e) && e.Code == auth.EValidation {
		var fields []string
		for field := range e.Validation {
			fields = append(fields, field)
		}
		sort.Strings(fields)
		var msgs []string
		for _, f := range fields {
			for _, v := range e.Validation[f] {
				msgs = append(msgs, f+": "+v.Message)
			}
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return err
}

func runCustomersShow(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("customers show", `customers show EMAIL [--json] [--db FILE]

Shows one customer: what customers list shows, whether the email is verified and a password set,
the linked social identities, their live sessions and their most recent audit events. Never the
password hash.`, stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	email, err := emailCommand(fs, args)
	if err != nil {
		return err
	}
	d, svc, err := openService(ctx, *dbPath, existingDB, auth.DefaultConfig(), stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	r, err := svc.ShowCustomer(ctx, email)
	if err != nil {
		return customerError(err)
	}
	if *asJSON {
		out := newCustomerJSON(r.CustomerSummary)
		out.SessionList, out.Audit = []sessionJSON{}, []auditJSON{}
		for _, x := range r.SessionList {
			out.SessionList = append(out.SessionList, sessionJSON{DeviceID: x.DeviceID, CreatedAt: jsonTime(x.CreatedAt),
				LastRefreshedAt: optionalTime(x.LastRefreshedAt), ExpiresAt: jsonTime(x.ExpiresAt)})
		}
		for _, e := range r.Audit {
			out.Audit = append(out.Audit, newAuditJSON(e))
		}
		out.EmailVerified, out.HasPassword, out.Identities = &r.EmailVerified, &r.HasPassword, []identityJSON{}
		for _, i := range r.Identities {
			out.Identities = append(out.Identities, identityJSON{Type: i.Type, ExternalID: i.Subject, Email: i.Email,
				LinkedAt: jsonTime(i.LinkedAt), LastUsedAt: optionalTime(i.LastUsedAt)})
		}
		return writeJSON(stdout, out)
	}
	tel := ""
	if r.Telephone != nil {
		tel = oneLine(*r.Telephone)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "email\t%s\nfirst name\t%s\nlast name\t%s\ntelephone\t%s\nuuid\t%s\ncreated\t%s\nlast login\t%s\nsessions\t%d\n",
		r.Email, oneLine(r.FirstName), oneLine(r.LastName), tel, r.UUID, textTime(r.CreatedAt), textTime(r.LastLoginAt), r.Sessions)
	fmt.Fprintf(w, "verified\t%s\npassword\t%s\n", yesNo(r.EmailVerified), yesNo(r.HasPassword))
	if err := w.Flush(); err != nil {
		return err
	}
	if len(r.Identities) > 0 {
		fmt.Fprintln(stdout, "\nSocial identities:")
		w = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "TYPE\tEXTERNAL ID\tEMAIL\tLINKED\tLAST USED")
		for _, i := range r.Identities {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", i.Type, oneLine(i.Subject), oneLine(i.Email), textTime(i.LinkedAt), textTime(i.LastUsedAt))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(r.SessionList) > 0 {
		fmt.Fprintln(stdout, "\nSessions (newest first):")
		w = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "DEVICE\tSTARTED\tLAST REFRESH\tEXPIRES")
		for _, x := range r.SessionList {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", x.DeviceID, textTime(x.CreatedAt), textTime(x.LastRefreshedAt), textTime(x.ExpiresAt))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(r.Audit) > 0 {
		fmt.Fprintln(stdout, "\nRecent audit events (newest first):")
		return printAudit(stdout, r.Audit)
	}
	return nil
}

// maxPasswordInput bounds what is read of standard input for a password: a password is one line,
// and a file piped in by mistake (a 200 MB dump) is refused after this much, not read whole.
const maxPasswordInput = 4 << 10

// readPassword reads a password so that it stays out of the shell history and the process list: on
// a terminal it asks for it without echo, twice when confirm is set; otherwise it is the first line
// of standard input, of at most maxPasswordInput bytes.
func readPassword(stdin io.Reader, stderr io.Writer, prompt string, confirm bool) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		first, err := askPassword(f, stderr, prompt+": ")
		if err != nil || !confirm {
			return first, err
		}
		again, err := askPassword(f, stderr, "Repeat it: ")
		if err != nil {
			return "", err
		}
		if again != first {
			return "", errors.New("the two passwords differ; nothing changed")
		}
		return first, nil
	}
	r := bufio.NewReader(io.LimitReader(stdin, maxPasswordInput+1))
	line, err := r.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	switch {
	case len(line) > maxPasswordInput:
		return "", fmt.Errorf("standard input: the first line is longer than %d bytes, which is no password; "+
			"pipe in one line: printf '%%s\\n' \"$PASSWORD\" | shopauth ...", maxPasswordInput)
	case err != nil && !errors.Is(err, io.EOF):
		return "", fmt.Errorf("read password: %w", err)
	}
	return line, nil
}

// askPassword prompts on stderr and reads one line from the terminal f without echo.
func askPassword(f *os.File, stderr io.Writer, prompt string) (string, error) {
	fmt.Fprint(stderr, prompt)
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if len(p) > maxPasswordInput {
		return "", fmt.Errorf("the password is longer than %d bytes", maxPasswordInput)
	}
	return string(p), nil
}

func runCustomersSetPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("customers set-password", `customers set-password EMAIL [--db FILE] < password

Sets the customer's password, asked for twice without echo on a terminal, or else the first
line of standard input (at most 4 KiB), checked as ChangePassword checks a new one, and ends every session of theirs: their access tokens stop working at once
and every device logs in again. Audited. printf '%s\n' "$PASSWORD" | shopauth customers set-password EMAIL`, stdout, stderr)
	cfg := auth.DefaultConfig()
	fs.IntVar(&cfg.MinPasswordLength, "min-password-length", cfg.MinPasswordLength, "minimum password length (use the server's)")
	email, err := emailCommand(fs, args)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError(fs, "%v", err)
	}
	password, err := readPassword(stdin, stderr, "New password for "+email, true)
	if err != nil {
		return err
	}
	d, svc, err := openService(ctx, *dbPath, existingDB, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := svc.SetPassword(ctx, email, password)
	if err != nil {
		return customerError(err)
	}
	fmt.Fprintf(stdout, "password of %s set; %d sessions ended\n", email, n)
	return nil
}

func runCustomersRevoke(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return runCustomerAction(ctx, args, stdout, stderr, "customers revoke", `customers revoke EMAIL [--db FILE]

Ends every session of the customer: their access tokens stop working at once and their refresh
tokens are refused, so every device logs in again. The password stays. Audited when a
session ended (a customer with none gets "no sessions of EMAIL to end" and no audit event).`,
		(*auth.Service).RevokeCustomer, "%[2]d sessions of %[1]s ended\n")
}

func runCustomersDelete(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return runCustomerAction(ctx, args, stdout, stderr, "customers delete", `customers delete EMAIL [--db FILE]

Erases the customer (a GDPR erasure request): the account with its sessions, passkeys and
recovery hashes. Their tokens stop working at once, Shopsys-issued ones included. The audit log
keeps its events and the deletion under the customer's UUID, never the email. Take a backup
first if you may need it back: there is no undo.`,
		(*auth.Service).DeleteCustomer, "customer %[1]s deleted; %[2]d sessions ended\n")
}

// runCustomerAction runs an operator action on one customer named by email and reports how many
// sessions it ended, in format (%[1]s the email, %[2]d the count).
func runCustomerAction(ctx context.Context, args []string, stdout, stderr io.Writer, name, usage string,
	act func(*auth.Service, context.Context, string) (int, error), format string) error {
	fs, dbPath := newFlagSet(name, usage, stdout, stderr)
	email, err := emailCommand(fs, args)
	if err != nil {
		return err
	}
	d, svc, err := openService(ctx, *dbPath, existingDB, auth.DefaultConfig(), stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := act(svc, ctx, email)
	if err != nil {
		return customerError(err)
	}
	if n == 0 && name == "customers revoke" {
		format = "no sessions of %[1]s to end\n"
	}
	fmt.Fprintf(stdout, format, email, n)
	return nil
}

func runAudit(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := newFlagSet("audit", `audit [--customer EMAIL|UUID] [--since 24h|7d] [--json] [--db FILE]

Prints the audit log, newest first: refresh-token reuse (the session was ended), customers'
own security changes (password changes, revocations, recoveries, passkeys), and what the
operator did (passwords set, sessions revoked, customers deleted). A deleted customer's events name their UUID only;
--customer UUID finds them. Events are kept for 90 days.`, stdout, stderr)
	email := fs.String("customer", "", "only the events of the customer with this `EMAIL`, or this UUID (also after the customer was deleted)")
	var since time.Duration
	fs.Func("since", "only events of this last `duration` (24h, 30m, 7d; default: all)", func(s string) error {
		d, err := parseDays(s)
		since = d
		return err
	})
	asJSON := fs.Bool("json", false, "print one JSON array of objects")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if since < 0 {
		return usageError(fs, "--since %v: want a positive duration such as 24h", since)
	}
	d, svc, err := openService(ctx, *dbPath, existingDB, auth.DefaultConfig(), stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	var from time.Time
	if since > 0 {
		from = svc.Now().Add(-since)
	}
	events, err := svc.AuditLog(ctx, *email, from)
	if err != nil {
		return customerError(err)
	}
	if *asJSON {
		out := make([]auditJSON, 0, len(events))
		for _, e := range events {
			out = append(out, newAuditJSON(e))
		}
		return writeJSON(stdout, out)
	}
	return printAudit(stdout, events)
}

func printAudit(w io.Writer, events []auth.AuditEvent) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCUSTOMER\tDEVICE\tREMOTE\tEVENT")
	for _, e := range events {
		who := e.Email
		switch {
		case who == "" && e.CustomerUUID != "":
			who = e.CustomerUUID + " (deleted)"
		case who == "":
			who = "-"
		}
		event := e.Reason
		if e.Operator != "" {
			event += " (console operator " + e.Operator + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", textTime(e.At), who, dash(e.DeviceID), dash(e.RemoteAddr), event)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseDays is time.ParseDuration that also takes whole days ("7d"), the unit an audit asks in.
func parseDays(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*365 {
			return 0, errors.New("want a duration such as 24h, 30m or 7d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a duration such as 24h, 30m or 7d")
	}
	return d, nil
}
