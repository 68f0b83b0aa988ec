package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"shopauth/mail"
)

const mailUsage = `Usage:
  shopauth mail test --to EMAIL   send one message with the mail settings, print the server's answer

Run shopauth mail COMMAND --help for the details.
`

func runMail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runGroup(ctx, "mail", mailUsage, map[string]command{"test": runMailTest}, args, stdin, stdout, stderr)
}

func runMailTest(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, _ := NewFlagSet("mail test", `mail test --to EMAIL [--smtp-url URL] [--mail-from ADDRESS] [--shop-name NAME]

Sends one short message to EMAIL through the mail server recovery mails use (--smtp-url, or
SHOPAUTH_SMTP_URL as the server reads it), and prints the server's answer, or its error. An SMTP
mistake otherwise shows only when a customer asks for a recovery mail, while the API answers
"success". With the server's environment file:
  set -a; . /etc/shopauth/shopauth.env; set +a; shopauth mail test --to you@shop.cz`, stdout, stderr)
	m := MailFlags{MailFrom: DefaultMailFrom}
	m.Register(fs)
	to := fs.String("to", "", "the `address` to send the test message to")
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *to == "":
		return UsageError(fs, "name the recipient with --to EMAIL")
	case m.SMTPURL == "":
		return UsageError(fs, "no --smtp-url (or SHOPAUTH_SMTP_URL): without one, recovery mails go to the log and there is no mail server to test")
	}
	cfg := m.Config()
	answer, err := mail.SendTest(ctx, cfg, *to)
	if err != nil {
		return fmt.Errorf("mail test: %w", err)
	}
	fmt.Fprintf(stdout, "sent a test message to %s from %s through %s\nthe server answered: %s\n",
		*to, m.MailFrom, RedactDB(m.SMTPURL), answer)
	return nil
}

// DefaultMailFrom is the sender of mails when --mail-from is not given.
const DefaultMailFrom = "shopauth@localhost"

// MailFlags say how mail goes out: serve's and mail test's.
type MailFlags struct {
	SMTPURL  string
	MailFrom string
	ShopName string
}

// Register binds --smtp-url, --mail-from and --shop-name to f.
func (f *MailFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.SMTPURL, "smtp-url", "", "SMTP server `URL` (smtp://user:pass@host:587 or smtps://host:465); without it recovery mails go to the log (--mail-log)")
	fs.StringVar(&f.MailFrom, "mail-from", f.MailFrom, "sender `address` of recovery mails")
	fs.StringVar(&f.ShopName, "shop-name", "", "the shop's `name`, for the recovery mail")
}

// Config is the mail configuration of these flags.
func (f MailFlags) Config() mail.Config {
	return mail.Config{URL: f.SMTPURL, From: f.MailFrom, ShopName: f.ShopName}
}
