package resolvers

import (
	"context"
	"log/slog"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"shopauth/auth"
)

// The admin console's schema (admin.graphql), served on --admin-addr only. Like the public one it
// decodes arguments, calls auth and maps error codes; the operator comes from the context (the
// HTTP layer reads the session cookie) and every action checks for one in auth.

// AdminService is what the console's resolvers ask of the domain; *auth.Service satisfies it.
type AdminService interface {
	Config() auth.Config
	Ping(ctx context.Context) error
	ConsoleEnrolOptions(ctx context.Context, token string) (string, string, error)
	ConsoleEnrol(ctx context.Context, token, credential string) (auth.ConsoleLogin, error)
	ConsoleLoginOptions(ctx context.Context) (string, error)
	ConsoleLogin(ctx context.Context, credential string) (auth.ConsoleLogin, error)
	ConsoleLogout(ctx context.Context) error
	SearchCustomers(ctx context.Context, text string, offset, limit int) ([]auth.CustomerSummary, int, error)
	ConsoleCustomer(ctx context.Context, uuid string) (auth.ConsoleCustomerReport, error)
	EndCustomerSession(ctx context.Context, uuid, deviceID string) error
	EndCustomerSessions(ctx context.Context, uuid string) (int, error)
	SendRecoveryMail(ctx context.Context, uuid string) error
	DeleteCustomerConfirmed(ctx context.Context, uuid, confirmEmail string) (int, error)
	ConsoleAuditLog(ctx context.Context, f auth.AuditFilter) ([]auth.AuditEvent, error)
	ConsoleKeys(ctx context.Context) ([]auth.KeyInfo, error)
	ConsoleRotateKeys(ctx context.Context, now bool) (auth.SigningKey, error)
	ConsoleAudit(ctx context.Context, reason auth.AuditReason) error
	Impersonate(ctx context.Context, customerUUID string) (string, error)
}

var _ AdminService = (*auth.Service)(nil)

// AdminInfo is what the console's summary shows beyond the domain's Config: main knows it.
type AdminInfo struct {
	Version       string
	Store         string // "SQLite" or "PostgreSQL"
	SchemaVersion func(ctx context.Context) (int, error)
	Providers     []string  // social login providers configured, by type
	Settings      []Setting // limits and settings to show, never a secret
	// TestMail sends one test message and answers what the mail server said; nil: no mailer.
	TestMail func(ctx context.Context, to string) (string, error)
}

// Setting is one line of the console's settings summary.
type Setting struct{ N, V string }

func (s Setting) Name() string  { return s.N }
func (s Setting) Value() string { return s.V }

// ConsoleSessionSink is how a console login reaches the browser: the HTTP layer puts the secret
// into an HttpOnly cookie, so the page's script never sees it.
type ConsoleSessionSink interface {
	SetConsoleSession(secret string, maxAge time.Duration)
	ClearConsoleSession()
}

type consoleSinkKey struct{}

// WithConsoleSessionSink returns ctx carrying the sink the console's login resolvers use.
func WithConsoleSessionSink(ctx context.Context, sink ConsoleSessionSink) context.Context {
	return context.WithValue(ctx, consoleSinkKey{}, sink)
}

func consoleSink(ctx context.Context) ConsoleSessionSink {
	if s, ok := ctx.Value(consoleSinkKey{}).(ConsoleSessionSink); ok {
		return s
	}
	return nil
}

// NewAdminSchema parses the console's SDL and binds it to the service, with the public schema's limits.
func NewAdminSchema(sdl string, svc AdminService, info AdminInfo, log *slog.Logger) (*graphql.Schema, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &AdminRoot{root: &Root{log: log}, svc: svc, info: info}
	return graphql.ParseSchema(sdl, r, schemaOptions(log)...)
}

// AdminRoot is the console schema's root resolver.
type AdminRoot struct {
	root *Root // not embedded: its Query and Mutation would become the schema's roots
	svc  AdminService
	info AdminInfo
}

func (r *AdminRoot) fail(ctx context.Context, err error) error { return r.root.fail(ctx, err) }

// Operator resolves Operator.
type Operator struct{ o auth.ConsoleOperator }

func (o *Operator) UUID() Uuid           { return Uuid(o.o.UUID) }
func (o *Operator) Name() string         { return o.o.Name }
func (o *Operator) LastLoginAt() *string { return optionalTime(o.o.LastLoginAt) }
func (r *AdminRoot) Me(ctx context.Context) (*Operator, error) {
	p, err := auth.ConsoleCaller(ctx)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &Operator{p.Operator}, nil
}

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// CustomerRow resolves CustomerRow.
type CustomerRow struct{ c auth.CustomerSummary }

func (c *CustomerRow) UUID() Uuid           { return Uuid(c.c.UUID) }
func (c *CustomerRow) Email() string        { return c.c.Email }
func (c *CustomerRow) FirstName() string    { return c.c.FirstName }
func (c *CustomerRow) LastName() string     { return c.c.LastName }
func (c *CustomerRow) CreatedAt() string    { return formatTime(c.c.CreatedAt) }
func (c *CustomerRow) LastLoginAt() *string { return optionalTime(c.c.LastLoginAt) }
func (c *CustomerRow) Sessions() int32      { return int32(c.c.Sessions) }

// CustomerPage resolves CustomerPage.
type CustomerPage struct {
	total, offset int
	rows          []*CustomerRow
}

func (p *CustomerPage) Total() int32              { return int32(p.total) }
func (p *CustomerPage) Offset() int32             { return int32(p.offset) }
func (p *CustomerPage) Customers() []*CustomerRow { return p.rows }

type customersArgs struct {
	Search        *string
	Offset, Limit *int32
}

func (r *AdminRoot) Customers(ctx context.Context, args customersArgs) (*CustomerPage, error) {
	search, offset, limit := "", 0, 20
	if args.Search != nil {
		search = *args.Search
	}
	if args.Offset != nil {
		offset = int(*args.Offset)
	}
	if args.Limit != nil {
		limit = int(*args.Limit)
	}
	list, total, err := r.svc.SearchCustomers(ctx, search, offset, limit)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	p := &CustomerPage{total: total, offset: max(offset, 0), rows: make([]*CustomerRow, len(list))}
	for i := range list {
		p.rows[i] = &CustomerRow{list[i]}
	}
	return p, nil
}

// CustomerDetail resolves CustomerDetail.
type CustomerDetail struct{ r auth.ConsoleCustomerReport }

func (c *CustomerDetail) UUID() Uuid           { return Uuid(c.r.UUID) }
func (c *CustomerDetail) Email() string        { return c.r.Email }
func (c *CustomerDetail) FirstName() string    { return c.r.FirstName }
func (c *CustomerDetail) LastName() string     { return c.r.LastName }
func (c *CustomerDetail) Telephone() *string   { return c.r.Telephone }
func (c *CustomerDetail) CreatedAt() string    { return formatTime(c.r.CreatedAt) }
func (c *CustomerDetail) LastLoginAt() *string { return optionalTime(c.r.LastLoginAt) }
func (c *CustomerDetail) EmailVerified() bool  { return c.r.EmailVerified }
func (c *CustomerDetail) HasPassword() bool    { return c.r.HasPassword }
func (c *CustomerDetail) SocialIdentities() []*ConsoleIdentity {
	out := make([]*ConsoleIdentity, len(c.r.Identities))
	for i := range c.r.Identities {
		out[i] = &ConsoleIdentity{c.r.Identities[i]}
	}
	return out
}

// ConsoleIdentity resolves the console's SocialIdentity.
type ConsoleIdentity struct{ i auth.SocialIdentity }

func (i *ConsoleIdentity) Type() string        { return i.i.Type }
func (i *ConsoleIdentity) Subject() string     { return i.i.Subject }
func (i *ConsoleIdentity) Email() *string      { return optional(i.i.Email) }
func (i *ConsoleIdentity) LinkedAt() string    { return formatTime(i.i.LinkedAt) }
func (i *ConsoleIdentity) LastUsedAt() *string { return optionalTime(i.i.LastUsedAt) }
func (c *CustomerDetail) Sessions() []*CustomerSession {
	out := make([]*CustomerSession, len(c.r.SessionList))
	for i := range c.r.SessionList {
		out[i] = &CustomerSession{Session{c.r.SessionList[i]}}
	}
	return out
}

// CustomerSession resolves the console's CustomerSession: a Session and how it began.
type CustomerSession struct{ Session }

func (s *CustomerSession) LoginType() string {
	if s.s.Login.Type == "" {
		return auth.LoginTypeWeb
	}
	return s.s.Login.Type
}
func (s *CustomerSession) AdministratorUUID() *string { return optional(s.s.Login.AdministratorUUID) }
func (c *CustomerDetail) Passkeys() []*Passkey {
	out := make([]*Passkey, len(c.r.Passkeys))
	for i := range c.r.Passkeys {
		out[i] = &Passkey{c.r.Passkeys[i]}
	}
	return out
}
func (c *CustomerDetail) Audit() []*AuditEvent { return auditEvents(c.r.Audit) }

type uuidArgs struct{ UUID Uuid }

func (r *AdminRoot) Customer(ctx context.Context, args uuidArgs) (*CustomerDetail, error) {
	rep, err := r.svc.ConsoleCustomer(ctx, string(args.UUID))
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &CustomerDetail{rep}, nil
}

// AuditEvent resolves AuditEvent.
type AuditEvent struct{ e auth.AuditEvent }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (e *AuditEvent) At() string            { return formatTime(e.e.At) }
func (e *AuditEvent) Reason() string        { return e.e.Reason }
func (e *AuditEvent) CustomerUUID() *string { return optional(e.e.CustomerUUID) }
func (e *AuditEvent) Email() *string        { return optional(e.e.Email) }
func (e *AuditEvent) DeviceID() *string     { return optional(e.e.DeviceID) }
func (e *AuditEvent) RemoteAddr() *string   { return optional(e.e.RemoteAddr) }
func (e *AuditEvent) Operator() *string     { return optional(e.e.Operator) }

func auditEvents(list []auth.AuditEvent) []*AuditEvent {
	out := make([]*AuditEvent, len(list))
	for i := range list {
		out[i] = &AuditEvent{list[i]}
	}
	return out
}

type auditArgs struct {
	Filter *struct {
		Email, Event, Since *string
	}
}

// sinceLayouts are the forms a filter's since may take: RFC 3339, a browser's datetime-local
// field (UTC), or a date (UTC midnight).
var sinceLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

func (r *AdminRoot) AuditLog(ctx context.Context, args auditArgs) ([]*AuditEvent, error) {
	var f auth.AuditFilter
	if in := args.Filter; in != nil {
		if in.Email != nil {
			f.Email = *in.Email
		}
		if in.Event != nil {
			f.Event = *in.Event
		}
		if in.Since != nil && *in.Since != "" {
			var err error
			for _, layout := range sinceLayouts {
				if f.Since, err = time.Parse(layout, *in.Since); err == nil {
					break
				}
			}
			if err != nil {
				return nil, &Error{Message: auth.MsgValidation, UserCode: auth.EValidation, Validation: auth.Violations{
					"filter.since": {{Message: "Give a time such as 2026-12-01T10:00:00Z or a date such as 2026-12-01.", Code: "since-invalid"}}}}
			}
		}
	}
	list, err := r.svc.ConsoleAuditLog(ctx, f)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return auditEvents(list), nil
}

// Key resolves Key.
type Key struct{ k auth.KeyInfo }

func (k *Key) ID() string        { return k.k.ID }
func (k *Key) Algorithm() string { return k.k.Algorithm }
func (k *Key) StartsAt() string  { return formatTime(k.k.CreatedAt) }
func (k *Key) Signing() bool     { return k.k.Signing }
func (k *Key) Live() bool        { return k.k.Live }
func (k *Key) Pending() bool     { return k.k.Pending }
func (k *Key) Shopsys() bool     { return k.k.Shopsys }
func (k *Key) Refresh() bool     { return k.k.Refresh }

func (r *AdminRoot) Keys(ctx context.Context) ([]*Key, error) {
	list, err := r.svc.ConsoleKeys(ctx)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	out := make([]*Key, len(list))
	for i := range list {
		out[i] = &Key{list[i]}
	}
	return out, nil
}

// Summary resolves Summary.
type Summary struct {
	info   AdminInfo
	schema int
	cfg    auth.Config
	health string
}

func (s *Summary) Health() string { return s.health }

func (s *Summary) Version() string      { return s.info.Version }
func (s *Summary) SchemaVersion() int32 { return int32(s.schema) }
func (s *Summary) Store() string        { return s.info.Store }
func (s *Summary) Issuer() string       { return s.cfg.Issuer }
func (s *Summary) Providers() []string  { return append([]string{}, s.info.Providers...) }
func (s *Summary) Settings() []Setting  { return s.info.Settings }

func (r *AdminRoot) Summary(ctx context.Context) (*Summary, error) {
	if _, err := auth.ConsoleCaller(ctx); err != nil {
		return nil, r.fail(ctx, err)
	}
	s := &Summary{info: r.info, cfg: r.svc.Config(), health: "ok"}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.svc.Ping(pingCtx); err != nil {
		s.health = "unavailable: " + err.Error() // the operator's own console: the cause helps them
	}
	if r.info.SchemaVersion != nil {
		v, err := r.info.SchemaVersion(ctx)
		if err != nil {
			return nil, r.fail(ctx, err)
		}
		s.schema = v
	}
	return s, nil
}

// EnrolOptions resolves EnrolOptions.
type EnrolOptions struct{ operator, options string }

func (e *EnrolOptions) Operator() string { return e.operator }
func (e *EnrolOptions) Options() string  { return e.options }

type tokenArgs struct{ Token string }

func (r *AdminRoot) EnrolOptions(ctx context.Context, args tokenArgs) (*EnrolOptions, error) {
	options, name, err := r.svc.ConsoleEnrolOptions(ctx, args.Token)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &EnrolOptions{operator: name, options: options}, nil
}

type enrolArgs struct {
	Input struct{ Token, Credential string }
}

func (r *AdminRoot) Enrol(ctx context.Context, args enrolArgs) (*Operator, error) {
	return r.loggedIn(ctx)(r.svc.ConsoleEnrol(ctx, args.Input.Token, args.Input.Credential))
}

func (r *AdminRoot) LoginOptions(ctx context.Context) (string, error) {
	options, err := r.svc.ConsoleLoginOptions(ctx)
	if err != nil {
		return "", r.fail(ctx, err)
	}
	return options, nil
}

type consoleLoginArgs struct {
	Input struct{ Credential string }
}

func (r *AdminRoot) Login(ctx context.Context, args consoleLoginArgs) (*Operator, error) {
	return r.loggedIn(ctx)(r.svc.ConsoleLogin(ctx, args.Input.Credential))
}

// loggedIn hands a started console session to the HTTP layer's cookie.
func (r *AdminRoot) loggedIn(ctx context.Context) func(auth.ConsoleLogin, error) (*Operator, error) {
	return func(l auth.ConsoleLogin, err error) (*Operator, error) {
		if err != nil {
			return nil, r.fail(ctx, err)
		}
		if sink := consoleSink(ctx); sink != nil {
			sink.SetConsoleSession(l.Secret, auth.ConsoleSessionTTL)
		}
		return &Operator{l.Operator}, nil
	}
}

func (r *AdminRoot) Logout(ctx context.Context) (bool, error) {
	if err := r.svc.ConsoleLogout(ctx); err != nil {
		return false, r.fail(ctx, err)
	}
	if sink := consoleSink(ctx); sink != nil {
		sink.ClearConsoleSession()
	}
	return true, nil
}

type endSessionArgs struct {
	Input struct{ UUID, DeviceID Uuid }
}

func (r *AdminRoot) EndSession(ctx context.Context, args endSessionArgs) (bool, error) {
	if err := r.svc.EndCustomerSession(ctx, string(args.Input.UUID), string(args.Input.DeviceID)); err != nil {
		return false, r.fail(ctx, err)
	}
	return true, nil
}

func (r *AdminRoot) EndSessions(ctx context.Context, args uuidArgs) (int32, error) {
	n, err := r.svc.EndCustomerSessions(ctx, string(args.UUID))
	if err != nil {
		return 0, r.fail(ctx, err)
	}
	return int32(n), nil
}

func (r *AdminRoot) SendRecoveryMail(ctx context.Context, args uuidArgs) (bool, error) {
	if err := r.svc.SendRecoveryMail(ctx, string(args.UUID)); err != nil {
		return false, r.fail(ctx, err)
	}
	return true, nil
}

type deleteCustomerArgs struct {
	Input struct {
		UUID         Uuid
		ConfirmEmail string
	}
}

func (r *AdminRoot) DeleteCustomer(ctx context.Context, args deleteCustomerArgs) (int32, error) {
	n, err := r.svc.DeleteCustomerConfirmed(ctx, string(args.Input.UUID), args.Input.ConfirmEmail)
	if err != nil {
		return 0, r.fail(ctx, err)
	}
	return int32(n), nil
}

type rotateArgs struct{ Now *bool }

func (r *AdminRoot) RotateKeys(ctx context.Context, args rotateArgs) (*Key, error) {
	k, err := r.svc.ConsoleRotateKeys(ctx, args.Now != nil && *args.Now)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	keys, err := r.svc.ConsoleKeys(ctx)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	for _, info := range keys {
		if info.ID == k.ID {
			return &Key{info}, nil
		}
	}
	return &Key{auth.KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt}}, nil
}

type testMailArgs struct{ To string }

func (r *AdminRoot) SendTestMail(ctx context.Context, args testMailArgs) (string, error) {
	if _, err := auth.ConsoleCaller(ctx); err != nil {
		return "", r.fail(ctx, err)
	}
	if r.info.TestMail == nil {
		return "", &Error{Message: "This server has no mailer.", UserCode: "mail-disabled"}
	}
	answer, sendErr := r.info.TestMail(ctx, args.To)
	outcome := "sent"
	if sendErr != nil {
		outcome = "failed"
	}
	if err := r.svc.ConsoleAudit(ctx, auth.AuditConsoleTestMail+auth.AuditReason(" to "+args.To+": "+outcome)); err != nil {
		return "", r.fail(ctx, err)
	}
	if sendErr != nil {
		// The operator asked to see what the mail server says, refusals included.
		return "", &Error{Message: "The test mail was not sent: " + sendErr.Error(), UserCode: "mail-failed"}
	}
	return answer, nil
}

func (r *AdminRoot) LoginAsCustomer(ctx context.Context, args uuidArgs) (string, error) {
	link, err := r.svc.Impersonate(ctx, string(args.UUID))
	if err != nil {
		return "", r.fail(ctx, err)
	}
	return link, nil
}
