package main

import "shopauth/mail"

// wireMail gives the service its recovery mailer (--smtp-url, --mail-from, --recovery-url).
// Without --smtp-url the mailer writes each recovery link to the log, so a local demo works.
func (m *Main) wireMail() error {
	mailer, err := mail.New(mail.Config{URL: m.SMTPURL, From: m.MailFrom, RecoveryURL: m.RecoveryURL}, m.Log)
	if err != nil {
		return err
	}
	m.Service.Mailer = mailer
	return nil
}
