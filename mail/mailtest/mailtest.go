// Package mailtest runs an SMTP server on loopback inside a test, so tests can send real mail
// and read what arrived.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLSMode is how the test server speaks TLS.
type TLSMode int

const (
	// NoTLS offers plain SMTP only.
	NoTLS TLSMode = iota
	// StartTLS offers the STARTTLS extension.
	StartTLS
	// ImplicitTLS speaks TLS from the first byte (smtps).
	ImplicitTLS
)

// Options shape the server's behaviour.
type Options struct {
	TLS TLSMode
	// Username and Password, when set, make the server offer AUTH PLAIN (over TLS only) and require
	// it before MAIL FROM.
	Username, Password string
	// RejectRecipients answers every RCPT TO with 550.
	RejectRecipients bool
	// Silent accepts connections and never says a word: not even the greeting.
	Silent bool
	// HangInData accepts the message body and then never answers it.
	HangInData bool
}

// Message is a mail the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	// TLS and Authenticated tell how the client delivered it.
	TLS           bool
	Authenticated bool
}

// Server is a running test SMTP server; it stops when the test ends.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Messages receives each accepted message (buffered: up to 100 wait unread).
	Messages <-chan Message
	// ClientTLS trusts the server's self-signed certificate; hand it to the client under test.
	ClientTLS *tls.Config

	opts     Options
	messages chan Message
	release  chan struct{}
}

// StartServer starts a plain-SMTP server and returns its address and the raw messages it
// receives, for tests that want nothing more.
func StartServer(t testing.TB) (addr string, messages <-chan []byte) {
	s := Start(t, Options{})
	raw := make(chan []byte, cap(s.messages))
	go func() {
		for {
			select {
			case m := <-s.messages:
				raw <- m.Data
			case <-s.release:
				return
			}
		}
	}()
	return s.Addr, raw
}

// Start starts a server with the given behaviour on 127.0.0.1 and a free port.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), opts: opts, messages: make(chan Message, 100), release: make(chan struct{})}
	s.Messages = s.messages
	serverTLS, clientTLS := certificate(t)
	s.ClientTLS = clientTLS

	if opts.Silent {
		s.silent(t, l)
		return s
	}

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{srv: s, tls: isTLS}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.MaxMessageBytes = 1 << 20
	logger := &testLogger{t: t}
	srv.ErrorLog = logger
	switch opts.TLS {
	case StartTLS:
		srv.TLSConfig = serverTLS
	case ImplicitTLS:
		l = tls.NewListener(l, serverTLS)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		logger.stop()
		close(s.release)
		srv.Close()
		<-done
	})
	return s
}

// URL returns the server's address as a shopauth --smtp-url: smtps:// for ImplicitTLS, smtp://
// otherwise, with the credentials when the server requires them.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.opts.TLS == ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

// Next waits for the next message, failing the test after timeout.
func (s *Server) Next(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.messages:
		return m
	case <-time.After(timeout):
		t.Fatalf("no mail arrived within %v", timeout)
		return Message{}
	}
}

// silent holds every connection open without a word until the test ends.
func (s *Server) silent(t testing.TB, l net.Listener) {
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		close(s.release)
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
}

type session struct {
	srv    *Server
	tls    bool
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || s.srv.opts.Username == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.opts.Username || password != s.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.opts.RejectRecipients {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.opts.HangInData {
		<-s.srv.release
		return errors.New("test over")
	}
	s.srv.messages <- Message{From: s.from, To: s.to, Data: data, TLS: s.tls, Authenticated: s.authed}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// testLogger sends the server's errors to the test log until the test ends: go-smtp's connection
// goroutines may outlive Serve and would otherwise log into a finished test (a data race).
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("smtp server: "+format, v...)
	}
}

func (l *testLogger) Println(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Log(append([]any{"smtp server:"}, v...)...)
	}
}

// certificate makes a self-signed certificate for 127.0.0.1 and localhost, and a client
// configuration that trusts exactly it.
func certificate(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion: tls.VersionTLS12}
	return server, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// Mail is a received message taken apart.
type Mail struct {
	Header mail.Header
	// To is the decoded To header.
	To []*mail.Address
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded bodies of the text/plain and text/html parts.
	Text, HTML string
}

// Parse reads a message as a mail client would: headers (RFC 2047 words decoded) and the
// text/plain and text/html parts of a multipart/alternative body.
func Parse(raw []byte) (*Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	m := &Mail{Header: msg.Header}
	if m.To, err = msg.Header.AddressList("To"); err != nil {
		return nil, fmt.Errorf("To: %w", err)
	}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("Subject: %w", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("Content-Type: %w", err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		return nil, fmt.Errorf("Content-Type %s, want multipart/alternative", mediaType)
	}
	if err := m.readParts(multipart.NewReader(msg.Body, params["boundary"])); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mail) readParts(r *multipart.Reader) error {
	for {
		p, err := r.NextPart() // decodes quoted-printable bodies
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("part: %w", err)
		}
		mediaType, params, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return fmt.Errorf("part Content-Type: %w", err)
		}
		if strings.HasPrefix(mediaType, "multipart/") {
			if err := m.readParts(multipart.NewReader(p, params["boundary"])); err != nil {
				return err
			}
			continue
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return fmt.Errorf("part %s: %w", mediaType, err)
		}
		switch mediaType {
		case "text/plain":
			m.Text = string(body)
		case "text/html":
			m.HTML = string(body)
		}
	}
}

// Link returns the first line of the text part that starts with prefix: the link a customer
// would follow.
func (m *Mail) Link(prefix string) (string, bool) {
	for line := range strings.Lines(m.Text) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, prefix) {
			return line, true
		}
	}
	return "", false
}
