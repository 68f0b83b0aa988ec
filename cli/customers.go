package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"shopauth/auth"
)

// The operator's commands about customers: customers add|list|show|revoke|delete (set-password in
// password.go, import in import.go, impersonate in impersonate.go). They go through auth, as the
// server does, so the same rules hold: a password is checked as ChangePassword checks it, and
// every session ends with it.

const customersUsage = `Usage:
  shopauth customers add --email E --first-name F --last-name L [--telephone T] [--uuid U] < password
  shopauth customers import FILE.csv
  shopauth customers list [--search TEXT] [--json]   email, name, UUID, created, last login, sessions
  shopauth customers show EMAIL [--json]             the same, the live sessions and recent audit events
  shopauth customers set-password EMAIL              a new password (asked twice, or piped in); every session ends
  shopauth customers revoke EMAIL                    every session ends
  shopauth customers delete EMAIL                    erase the customer; their tokens die at once
  shopauth customers impersonate EMAIL --operator NAME   a one-time link logging the console operator in as them

Run shopauth customers COMMAND --help for the details.
`

func runCustomersAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("customers add", "customers add --email E --first-name F --last-name L [--telephone T] [--db FILE] < password\n\nAdds a customer. The password is the first line of standard input, so it stays out of\nthe shell history and the process list: printf '%s\\n' \"$PASSWORD\" | shopauth customers add ...", stdout, stderr)
	var n auth.NewCustomer
	var tel string
	fs.StringVar(&n.Email, "email", "", "email `address`")
	fs.StringVar(&n.FirstName, "first-name", "", "first `name`")
	fs.StringVar(&n.LastName, "last-name", "", "last `name`")
	fs.StringVar(&tel, "telephone", "", "telephone `number` (optional)")
	fs.StringVar(&n.UUID, "uuid", "", "the customer's `UUID` (default: a new one; give the Shopsys one to keep its tokens valid)")
	cfg := auth.DefaultConfig()
	fs.IntVar(&cfg.MinPasswordLength, "min-password-length", cfg.MinPasswordLength, "minimum password length")
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	if tel != "" {
		n.Telephone = &tel
	}
	password, err := readPassword(stdin, stderr, "Password for "+n.Email, true)
	if err != nil {
		return err
	}
	n.Password = password
	return withService(ctx, *dbPath, SeedDB, cfg, stderr, func(svc *auth.Service) error {
		added, err := svc.ImportCustomers(ctx, []auth.NewCustomer{n})
		var rowErr *auth.RowError
		if errors.As(err, &rowErr) {
			return errors.New(rowErr.Reason)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added customer %s %s\n", added[0].UUID, added[0].Email)
		return nil
	})
}

func runCustomersList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("customers list", `customers list [--search TEXT] [--json] [--db FILE]

Lists the customers, oldest first: email, name, UUID, when they registered and last logged in,
and how many live sessions (devices) they have. Never a password hash.`, stdout, stderr)
	search := fs.String("search", "", "only customers whose email or name contains `TEXT` (any case), or whose UUID it is")
	asJSON := fs.Bool("json", false, "print one JSON array of objects")
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
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
	})
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

func newCustomerJSON(c auth.CustomerSummary) customerJSON {
	return customerJSON{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Telephone: c.Telephone,
		UUID: c.UUID, CreatedAt: jsonTime(c.CreatedAt), LastLoginAt: optionalTime(c.LastLoginAt), Sessions: c.Sessions}
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
		return "", UsageError(fs, "the new password is not an argument (it would stay in the shell history and the process list): "+
			"give EMAIL alone and type the password when asked, or pipe it in: printf '%%s\\n' \"$PASSWORD\" | shopauth customers set-password EMAIL")
	}
	if len(positional) != 1 || strings.TrimSpace(positional[0]) == "" {
		return "", UsageError(fs, "name one customer's EMAIL")
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
	fs, dbPath := NewFlagSet("customers show", `customers show EMAIL [--json] [--db FILE]

Shows one customer: what customers list shows, whether the email is verified and a password set,
the linked social identities, their live sessions and their most recent audit events. Never the
password hash.`, stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	email, err := emailCommand(fs, args)
	if err != nil {
		return err
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
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
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
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
	fs, dbPath := NewFlagSet(name, usage, stdout, stderr)
	email, err := emailCommand(fs, args)
	if err != nil {
		return err
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
		n, err := act(svc, ctx, email)
		if err != nil {
			return customerError(err)
		}
		if n == 0 && name == "customers revoke" {
			format = "no sessions of %[1]s to end\n"
		}
		fmt.Fprintf(stdout, format, email, n)
		return nil
	})
}
