package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"shopauth/auth"
)

func runCustomersImpersonate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("customers impersonate", `customers impersonate EMAIL --operator NAME [--db FILE]

Prints the one-time link (60 seconds) that logs the admin console operator NAME in as the
customer, as the console's "Log in as this customer" does: it opens the social login redirect page
(--social-redirect-url, default ISSUER/account), which exchanges it with LoginWithSocialCode. The
session's access tokens carry administratorUuid (the operator's UUID), it lasts an hour at most
whatever refreshes it, the customer sees it among their sessions, and the audit log names the
operator. Give --social-redirect-url and --issuer as serve has them (the same environment file).`, stdout, stderr)
	operator := fs.String("operator", "", "the console operator's `NAME` (shopauth operators list)")
	issuer := fs.String("issuer", "", "the server's issuer `URL`, as serve has it (the default redirect page is ISSUER/account)")
	redirect := fs.String("social-redirect-url", "", "the page social logins end on, as serve has it (default ISSUER/account)")
	email, err := emailCommand(fs, args)
	if err != nil {
		return err
	}
	if *operator == "" {
		return UsageError(fs, "--operator NAME is required: the console operator the session is recorded for")
	}
	cfg := auth.DefaultConfig()
	if *issuer != "" {
		cfg.Issuer = *issuer
	}
	cfg.SocialRedirectURL = *redirect
	if err := cfg.Validate(); err != nil {
		return UsageError(fs, "%v", err)
	}
	return withService(ctx, *dbPath, ExistingDB, cfg, stderr, func(svc *auth.Service) error {
		link, err := svc.ImpersonateAs(ctx, *operator, email)
		var unknown *auth.UnknownOperatorError
		if errors.As(err, &unknown) {
			return fmt.Errorf("%v (shopauth operators list shows them)", err)
		}
		if err != nil {
			return customerError(err)
		}
		fmt.Fprintln(stdout, link)
		return nil
	})
}
