package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"shopauth/auth"
)

type auditJSON struct {
	At           string `json:"at"`
	Reason       string `json:"reason"`
	CustomerUUID string `json:"customerUuid,omitempty"`
	Email        string `json:"email,omitempty"` // absent once the customer is deleted
	DeviceID     string `json:"deviceId,omitempty"`
	RemoteAddr   string `json:"remoteAddr,omitempty"`
	Operator     string `json:"operator,omitempty"` // the admin console operator who acted
}

func newAuditJSON(e auth.AuditEvent) auditJSON {
	return auditJSON{At: jsonTime(e.At), Reason: e.Reason, CustomerUUID: e.CustomerUUID, Email: e.Email,
		DeviceID: e.DeviceID, RemoteAddr: e.RemoteAddr, Operator: e.Operator}
}

func runAudit(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("audit", `audit [--customer EMAIL|UUID] [--since 24h|7d] [--json] [--db FILE]

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
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	if since < 0 {
		return UsageError(fs, "--since %v: want a positive duration such as 24h", since)
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
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
	})
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
