package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"shopauth/mail"
)

// registerMailFlags binds the flags that say how mail goes out, shared by serve and mail test.
func (m *Main) registerMailFlags(fs *flag.FlagSet) {
	fs.StringVar(&m.SMTPURL, "smtp-url", "", "SMTP server `URL` (smtp://user:pass@host:587 or smtps://host:465); without it recovery mails go to the log (--mail-log)")
	fs.StringVar(&m.MailFrom, "mail-from", m.MailFrom, "sender `address` of recovery mails")
	fs.StringVar(&m.ShopName, "shop-name", "", "the shop's `name`, for the recovery mail")
}

// checkMail refuses a public site whose recovery mails would go to the log: without --smtp-url
// they do, and each holds a working reset link, so a production server would mail nobody and
// keep every customer's reset link in its journal. --mail-log says that is meant.
func (m *Main) checkMail() error {
	switch {
	case m.MailLog && m.SMTPURL != "":
		return errors.New("--mail-log and --smtp-url exclude each other: mails go to the log or to the mail server")
	case m.SMTPURL == "" && !m.MailLog && strings.HasPrefix(m.Config.Issuer, "https://"):
		return fmt.Errorf("the issuer %s is a public https:// site but no --smtp-url is set: recovery mails, "+
			"with working reset links, would go to the log instead of to customers. Set --smtp-url "+
			"(shopauth mail test --to YOU checks it), or --mail-log if the log is the mailbox on purpose", m.Config.Issuer)
	}
	return nil
}

const mailUsage = `Usage:
  shopauth mail test --to EMAIL   send one message with the mail settings, print the server's answer

Run shopauth mail COMMAND --help for the details.
`

func runMail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runGroup(ctx, "mail", mailUsage, map[string]command{"test": runMailTest}, args, stdin, stdout, stderr)
}

func runMailTest(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, _ := newFlagSet("mail test", `mail test --to EMAIL [--smtp-url URL] [--mail-from ADDRESS] [--shop-name NAME]

Sends one short message to EMAIL through the mail server recovery mails use (--smtp-url, or
SHOPAUTH_SMTP_URL as the server reads it), and prints the server's answer, or its error. An SMTP
mistake otherwise shows only when a customer asks for a recovery mail, while the API answers
"success". With the server's environment file:
  set -a; . /etc/shopauth/shopauth.env; set +a; shopauth mail test --to you@shop.cz`, stdout, stderr)
	m := NewMain()
	m.registerMailFlags(fs)
	to := fs.String("to", "", "the `address` to send the test message to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	switch {
	case *to == "":
		return usageError(fs, "name the recipient with --to EMAIL")
	case m.SMTPURL == "":
		return usageError(fs, "no --smtp-url (or SHOPAUTH_SMTP_URL): without one, recovery mails go to the log and there is no mail server to test")
	}
	cfg := m.mailConfig()
	answer, err := mail.SendTest(ctx, cfg, *to)
	if err != nil {
		return fmt.Errorf("mail test: %w", err)
	}
	fmt.Fprintf(stdout, "sent a test message to %s from %s through %s\nthe server answered: %s\n",
		*to, m.MailFrom, redactDB(m.SMTPURL), answer)
	return nil
}
