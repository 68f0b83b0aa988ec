// Package resolvers maps the GraphQL schemas, the public one and the admin console's, onto the auth
// service: it decodes arguments, calls auth, and turns auth's error codes into
// `extensions.userCode`. Beside them it states how many items each list field may hold (for
// web/cost's weighing) and keeps mutations out of a GET. It holds no domain logic.
package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"shopauth/auth"
)

// Limits on what a client may send. The HTTP layer checks MaxQueryLength too, before it parses the
// request any further, and caps the body.
const (
	MaxDepth       = 15 // GraphiQL's introspection query nests 13 deep
	MaxQueryLength = 16 << 10
	MaxParallelism = 4
)

// NewSchema parses the SDL and binds it to the service.
func NewSchema(sdl string, svc Service, log *slog.Logger) (*graphql.Schema, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Root{svc: svc, log: log}
	return graphql.ParseSchema(sdl, r, schemaOptions(log)...)
}

// schemaOptions are the limits and guards both schemas (the API and the admin console's) run with.
func schemaOptions(log *slog.Logger) []graphql.SchemaOpt {
	return []graphql.SchemaOpt{
		graphql.UseStringDescriptions(),
		graphql.DisableFieldSelections(), // no resolver asks which fields were selected
		graphql.MaxDepth(MaxDepth),
		graphql.MaxQueryLength(MaxQueryLength),
		graphql.MaxParallelism(MaxParallelism),
		// Backstops behind web's weighing of each document: conflicting aliases cannot make
		// validation compare (and report) pairs without end, nor fragments expand without end.
		graphql.OverlapValidationLimit(10_000),
		graphql.MaxSelections(10_000),
		graphql.Logger(panicLogger{log}),
		graphql.PanicHandler(panicHandler{}),
		graphql.Tracer(mutationGuard{}),
	}
}

// Root is the schema's root resolver.
type Root struct {
	svc Service
	log *slog.Logger
}

func (r *Root) Query() *Query       { return &Query{r} }
func (r *Root) Mutation() *Mutation { return &Mutation{r} }

// Query resolves the Query type.
type Query struct{ *Root }

// Mutation resolves the Mutation type.
type Mutation struct{ *Root }

// Error is a resolver error with the `extensions` the contract fixes.
type Error struct {
	Message    string
	UserCode   string
	Validation auth.Violations
}

func (e *Error) Error() string { return e.Message }

// Extensions are copied into the GraphQL error by graphql-go.
func (e *Error) Extensions() map[string]any {
	ext := map[string]any{"userCode": e.UserCode}
	if e.Validation != nil {
		ext["validation"] = e.Validation
	}
	return ext
}

// fail turns a domain error into the client's error; internal causes go to the log only.
func (r *Root) fail(ctx context.Context, err error) error {
	if auth.ErrorCode(err) == auth.EUnavailable {
		// web answers the whole request with HTTP 503 and Retry-After.
		r.log.WarnContext(ctx, "database unavailable", "err", err)
		return &Error{Message: auth.MsgUnavailable, UserCode: auth.EUnavailable}
	}
	var e *auth.Error
	if errors.As(err, &e) && e.Code != auth.EInternal {
		return &Error{Message: e.Message, UserCode: e.Code, Validation: e.Validation}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &Error{Message: "Request timed out.", UserCode: "timeout"}
	}
	r.log.ErrorContext(ctx, "internal error", "err", err)
	return &Error{Message: auth.MsgInternal, UserCode: auth.EInternal}
}

// Token resolves the Token type.
type Token struct{ pair auth.TokenPair }

func (t *Token) AccessToken() string  { return t.pair.AccessToken }
func (t *Token) RefreshToken() string { return t.pair.RefreshToken }

func (r *Root) token(ctx context.Context, pair auth.TokenPair, err error) (*Token, error) {
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &Token{pair}, nil
}

// Customer resolves CurrentCustomerUser: the customer, and how the caller's session began.
type Customer struct {
	c     auth.Customer
	login auth.LoginInfo
}

func (c *Customer) UUID() Uuid            { return Uuid(c.c.UUID) }
func (c *Customer) FirstName() string     { return c.c.FirstName }
func (c *Customer) LastName() string      { return c.c.LastName }
func (c *Customer) Email() string         { return c.c.Email }
func (c *Customer) Telephone() *string    { return c.c.Telephone }
func (c *Customer) EmailVerified() bool   { return c.c.EmailVerified }
func (c *Customer) LoginInfo() *LoginInfo { return &LoginInfo{c.login} }
func (r *Root) customer(ctx context.Context, c auth.Customer, err error) (*Customer, error) {
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	login := auth.LoginInfo{Type: auth.LoginTypeWeb}
	if p := auth.PrincipalFromContext(ctx); p != nil {
		login = p.Login
	}
	return &Customer{c: c, login: login}, nil
}

// Session resolves CustomerSession.
type Session struct{ s auth.SessionInfo }

func (s *Session) DeviceID() Uuid    { return Uuid(s.s.DeviceID) }
func (s *Session) CreatedAt() string { return formatTime(s.s.CreatedAt) }
func (s *Session) LastRefreshedAt() *string {
	if s.s.LastRefreshedAt.IsZero() {
		return nil
	}
	t := formatTime(s.s.LastRefreshedAt)
	return &t
}
func (s *Session) ExpiresAt() string { return formatTime(s.s.ExpiresAt) }
func (s *Session) Current() bool     { return s.s.Current }

// LoginInfo is how the session began (a session stored before logins were recorded was a web one).
func (s *Session) LoginInfo() *LoginInfo {
	l := s.s.Login
	if l.Type == "" {
		l.Type = auth.LoginTypeWeb
	}
	return &LoginInfo{l}
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// CurrentCustomerUser returns the caller.
func (q *Query) CurrentCustomerUser(ctx context.Context) (*Customer, error) {
	c, err := q.svc.CurrentCustomer(auth.PrincipalFromContext(ctx))
	return q.customer(ctx, c, err)
}

// CustomerSessions lists the caller's sessions.
func (q *Query) CustomerSessions(ctx context.Context) ([]*Session, error) {
	list, err := q.svc.Sessions(ctx, auth.PrincipalFromContext(ctx))
	if err != nil {
		return nil, q.fail(ctx, err)
	}
	out := make([]*Session, len(list))
	for i := range list {
		out[i] = &Session{list[i]}
	}
	return out, nil
}

type loginArgs struct {
	Input struct {
		Email    string
		Password Password
	}
}

func (m *Mutation) Login(ctx context.Context, args loginArgs) (*Token, error) {
	pair, err := m.svc.Login(ctx, args.Input.Email, string(args.Input.Password))
	return m.token(ctx, pair, err)
}

func (m *Mutation) Logout(ctx context.Context) (bool, error) {
	if err := m.svc.Logout(ctx, auth.PrincipalFromContext(ctx)); err != nil {
		return false, m.fail(ctx, err)
	}
	return true, nil
}

type refreshArgs struct {
	Input struct{ RefreshToken string }
}

func (m *Mutation) RefreshTokens(ctx context.Context, args refreshArgs) (*Token, error) {
	if o := refreshOutcome(ctx); o != nil {
		pair, err := o.resolve(args.Input.RefreshToken)
		return m.token(ctx, pair, err)
	}
	pair, err := m.svc.Refresh(ctx, args.Input.RefreshToken)
	return m.token(ctx, pair, err)
}

type registerArgs struct {
	Input struct {
		FirstName string
		LastName  string
		Email     string
		Password  Password
		Telephone *string
	}
}

func (m *Mutation) Register(ctx context.Context, args registerArgs) (*Token, error) {
	in := args.Input
	pair, err := m.svc.Register(ctx, auth.RegisterInput{FirstName: in.FirstName, LastName: in.LastName,
		Email: in.Email, Password: string(in.Password), Telephone: in.Telephone})
	return m.token(ctx, pair, err)
}

type changePasswordArgs struct {
	Input struct {
		Email       string
		OldPassword Password
		NewPassword Password
	}
}

func (m *Mutation) ChangePassword(ctx context.Context, args changePasswordArgs) (*Customer, error) {
	in := args.Input
	c, err := m.svc.ChangePassword(ctx, auth.PrincipalFromContext(ctx), in.Email, string(in.OldPassword), string(in.NewPassword))
	return m.customer(ctx, c, err)
}

type personalDataArgs struct {
	Input struct {
		FirstName string
		LastName  string
		Telephone *string
	}
}

func (m *Mutation) ChangePersonalData(ctx context.Context, args personalDataArgs) (*Customer, error) {
	in := args.Input
	c, err := m.svc.ChangePersonalData(ctx, auth.PrincipalFromContext(ctx),
		auth.PersonalData{FirstName: in.FirstName, LastName: in.LastName, Telephone: in.Telephone})
	return m.customer(ctx, c, err)
}

type revokeArgs struct{ Scope string }

func (m *Mutation) RevokeSessions(ctx context.Context, args revokeArgs) (int32, error) {
	n, err := m.svc.RevokeSessions(ctx, auth.PrincipalFromContext(ctx), auth.SessionScope(args.Scope))
	if err != nil {
		return 0, m.fail(ctx, err)
	}
	return int32(n), nil
}

type recoveryArgs struct{ Email string }

func (m *Mutation) RequestPasswordRecovery(ctx context.Context, args recoveryArgs) (string, error) {
	if err := m.svc.RequestPasswordRecovery(ctx, args.Email); err != nil {
		return "", m.fail(ctx, err)
	}
	return "success", nil
}

type recoverArgs struct {
	Input struct {
		Email       string
		Hash        string
		NewPassword Password
	}
}

func (m *Mutation) RecoverPassword(ctx context.Context, args recoverArgs) (*Token, error) {
	in := args.Input
	pair, err := m.svc.RecoverPassword(ctx, in.Email, in.Hash, string(in.NewPassword))
	return m.token(ctx, pair, err)
}

// Uuid is the Uuid scalar.
type Uuid string

func (Uuid) ImplementsGraphQLType(name string) bool { return name == "Uuid" }

func (u *Uuid) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("Uuid must be a string, got %T", input)
	}
	*u = Uuid(s)
	return nil
}

func (u Uuid) MarshalJSON() ([]byte, error) { return []byte(`"` + string(u) + `"`), nil }

// Password is the Password scalar: a plain string, passed through unchanged.
type Password string

func (Password) ImplementsGraphQLType(name string) bool { return name == "Password" }

func (p *Password) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("Password must be a string, got %T", input)
	}
	*p = Password(s)
	return nil
}

func (p Password) MarshalJSON() ([]byte, error) { return []byte(`"***"`), nil }

// panicLogger logs a recovered panic without the request context, which could hold a token.
type panicLogger struct{ log *slog.Logger }

func (l panicLogger) LogPanic(_ context.Context, value any) {
	l.log.Error("panic in resolver", "panic", fmt.Sprint(value))
}

// panicHandler tells the client no more than that something failed.
type panicHandler struct{}

func (panicHandler) MakePanicError(context.Context, any) *gqlerrors.QueryError {
	return &gqlerrors.QueryError{Message: auth.MsgInternal, Extensions: map[string]any{"userCode": auth.EInternal}}
}
