package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"shopauth/auth"
)

// `shopauth operators`: the admin console's operators (the shop's staff who log in to
// --admin-addr with a passkey), not the person running these commands.

const operatorsUsage = `Usage:
  shopauth operators add NAME --admin-addr HOST:PORT   a one-time enrolment link (15 minutes) for the console
  shopauth operators list                              the operators, their passkeys and last logins
  shopauth operators remove NAME                       remove an operator; their console sessions and the
                                                       customer sessions they opened ("log in as") end

The console runs on serve --admin-addr only (see docs/admin.md). An operator opens the
enrolment link in a browser on the admin address and registers a passkey there; from then on
they log in with it. add for an existing name issues a new link that adds another passkey.
Run shopauth operators COMMAND --help for the flags.
`

func runOperators(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runGroup(ctx, "operators", operatorsUsage, map[string]command{
		"add": runOperatorsAdd, "list": runOperatorsList, "remove": runOperatorsRemove,
	}, args, stdin, stdout, stderr)
}

func runOperatorsAdd(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("operators add", `operators add NAME --admin-addr HOST:PORT [--db FILE]

Adds a console operator NAME (or, for an existing one, lets them add another passkey) and prints
a one-time enrolment link, valid for 15 minutes, on the admin address: a loopback address is
printed as localhost, which is the passkeys' relying party. Give the same --admin-addr as serve
(SHOPAUTH_ADMIN_ADDR in the same environment file does).`, stdout, stderr)
	adminAddr := fs.String("admin-addr", "", "the `HOST:PORT` serve --admin-addr listens on")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return UsageError(fs, "name one operator NAME")
	}
	if *adminAddr == "" {
		return UsageError(fs, "--admin-addr is not set: give the address serve --admin-addr listens on (or SHOPAUTH_ADMIN_ADDR)")
	}
	base, err := auth.ConsoleURL(*adminAddr)
	if err != nil {
		return UsageError(fs, "%v", err)
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
		e, err := svc.AddConsoleOperator(ctx, positional[0])
		if err != nil {
			return err
		}
		verb := "operator " + e.Operator.Name + " added"
		if !e.Created {
			verb = "operator " + e.Operator.Name + " exists: this link adds a passkey"
		}
		fmt.Fprintf(stdout, "%s; enrolment link (one use, until %s):\n%s#enrol=%s\n", verb,
			e.ExpiresAt.Local().Format("15:04 MST"), base, e.Secret)
		return nil
	})
}

func runOperatorsList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("operators list", "operators list [--db FILE]\n\nLists the console operators by name: their passkeys, last console login, and whether an\nenrolment link is pending.", stdout, stderr)
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
		list, err := svc.ConsoleOperators(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "no operators: shopauth operators add NAME --admin-addr HOST:PORT")
			return nil
		}
		now := time.Now()
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPASSKEYS\tLAST LOGIN\tENROLMENT LINK\tADDED")
		for _, o := range list {
			link := "-"
			if o.EnrolHash != nil {
				link = "expired"
				if now.Before(o.EnrolExpiresAt) {
					link = "pending until " + o.EnrolExpiresAt.Local().Format("15:04")
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", o.Name, o.Passkeys, formatWhen(o.LastLoginAt), link, formatWhen(o.CreatedAt))
		}
		return tw.Flush()
	})
}

func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format(time.DateTime)
}

func runOperatorsRemove(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("operators remove", `operators remove NAME [--db FILE]

Removes the console operator with their passkeys; their console sessions end at once, and so do
the customer sessions they opened with "log in as" and their "log in as" codes not yet used.
The audit log keeps their name on what they did, and records each customer session ended.`, stdout, stderr)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || strings.TrimSpace(positional[0]) == "" {
		return UsageError(fs, "name one operator NAME")
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
		r, err := svc.RemoveConsoleOperator(ctx, positional[0])
		var unknown *auth.UnknownOperatorError
		if errors.As(err, &unknown) {
			return fmt.Errorf("%v (shopauth operators list shows them)", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "operator %s removed; %d console sessions ended; %d customer sessions opened as them ended; %d unused \"log in as\" codes dropped\n",
			positional[0], r.ConsoleSessions, r.CustomerSessions, r.HandOffs)
		return nil
	})
}
