package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Social login: the browser flow (StartSocialLogin, FinishSocialLogin, LoginWithSocialCode), the
// credential login (LoginWithCredential) and the linked identities of the account. The rules that
// decide who logs in are in sociallink.go.

// Lifetimes of what a social login keeps.
const (
	socialFlowTTL = 10 * time.Minute // a browser flow, start to callback
	handOffTTL    = time.Minute      // the one-time code on --social-redirect-url
	linkTokenTTL  = 5 * time.Minute  // a SocialLinkUrl, from the API call to the browser opening it
)

// SocialPath is where a social login starts and comes back to: SocialPath + type.
const SocialPath = "/social-network/login/"

// maxCredentialLength bounds what LoginWithCredential reads (an id_token is a few kB).
const maxCredentialLength = 16 << 10

// ErrProviderNotConfigured is StartSocialLogin's answer for a type no provider is configured for.
var ErrProviderNotConfigured = errors.New("no such social login provider is configured")

// SocialTypes lists the configured providers' types in LoginTypeEnum's order.
func (s *Service) SocialTypes() []string {
	var out []string
	for _, t := range SocialTypes {
		if s.provider(t) != nil {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) provider(typ string) IdentityProvider {
	for _, p := range s.cfg.Providers {
		if p.Type() == typ {
			return p
		}
	}
	return nil
}

// newToken returns 256 random bits, base64url: states, nonces, verifiers, codes, cookies.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// isToken reports whether s has newToken's form.
func isToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// pkceChallenge is the S256 challenge of verifier (RFC 7636).
func pkceChallenge(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// SocialStart is where a social login start sends the browser, and the value of the cookie that
// binds the flow to it ("" when the browser goes to the failure page instead).
type SocialStart struct {
	URL     string
	Browser string
}

// cartParams are Shopsys's parameters handed back unchanged at the end of a social login.
var cartParams = []string{"cartUuid", "shouldOverwriteCustomerUserCart", "productListUuids"}

// maxParamLength bounds each handed-back parameter (a UUID list of a few dozen).
const maxParamLength = 2048

// StartSocialLogin begins a browser login with the provider of typ. q is the start's query:
// redirect, code_challenge and code_challenge_method, the cart parameters, and link (the token of a
// SocialLinkUrl). browser is the cookie the browser holds from an earlier flow, if any. It stores
// the flow and answers the provider's URL; a used or expired link token answers the failure page.
func (s *Service) StartSocialLogin(ctx context.Context, typ string, q url.Values, browser string) (SocialStart, error) {
	p := s.provider(typ)
	if p == nil {
		return SocialStart{}, ErrProviderNotConfigured
	}
	challenge := q.Get("code_challenge")
	if challenge != "" || q.Has("code_challenge_method") {
		if q.Get("code_challenge_method") != "S256" || !isToken(challenge) {
			var v validator
			v.add("code_challenge", codeBadChallenge, "code_challenge must be a base64url SHA-256 (43 characters) with code_challenge_method=S256")
			return SocialStart{}, v.err()
		}
	}
	// Every start stores a row: an address may start as many as it may fail logins.
	end, err := s.beginAttempt(ctx, EventLoginThrottled, socialStartLimits(s.cfg, ClientFromContext(ctx).IP)...)
	if err != nil {
		return SocialStart{}, err
	}
	end(true)
	redirect := s.keepRedirect(q.Get("redirect"))
	params := url.Values{}
	for _, k := range cartParams {
		if v := q.Get(k); q.Has(k) && len(v) <= maxParamLength {
			params.Set(k, v)
		}
	}
	if !isToken(browser) {
		if browser, err = newToken(); err != nil {
			return SocialStart{}, internal("auth.StartSocialLogin", err)
		}
	}
	state, err1 := newToken()
	nonce, err2 := newToken()
	verifier, err3 := newToken()
	if err := errors.Join(err1, err2, err3); err != nil {
		return SocialStart{}, internal("auth.StartSocialLogin", err)
	}
	f := SocialFlow{StateHash: hashSecret(state), Type: typ, Nonce: nonce, Verifier: verifier, BrowserHash: hashSecret(browser),
		Redirect: redirect, CodeChallenge: challenge, Params: params.Encode(), ExpiresAt: s.Now().Add(socialFlowTTL)}
	errLink := errors.New("the link token is used, expired or not for this provider")
	err = s.store.Update(ctx, func(tx Tx) error {
		if link := q.Get("link"); link != "" {
			h, err := tx.TakeHandOff(hashSecret(link))
			if errors.Is(err, ErrNotFound) || (err == nil && (h.Purpose != HandOffLink || h.LoginType != typ || !s.Now().Before(h.ExpiresAt))) {
				return errLink
			}
			if err != nil {
				return err
			}
			f.LinkCustomerID = h.CustomerID
		}
		return tx.PutSocialFlow(f)
	})
	if errors.Is(err, errLink) {
		s.log.InfoContext(ctx, "social link refused", "type", typ, "reason", err)
		return SocialStart{URL: s.socialFailure(typ, ReasonStateInvalid, redirect)}, nil
	}
	if err != nil {
		return SocialStart{}, internal("auth.StartSocialLogin", err)
	}
	// An OpenID Connect adapter discovers its endpoints on first use: "" when it cannot.
	target, err := bounded(ctx, s.cfg.ProviderTimeout, func(context.Context) (string, error) {
		return p.AuthCodeURL(state, nonce, verifier, s.socialCallbackURL(typ)), nil
	})
	if err != nil || target == "" {
		s.log.InfoContext(ctx, "social login failed", "type", typ, "reason", ReasonProviderError, "cause", "no authorization URL")
		return SocialStart{URL: s.socialFailure(typ, ReasonProviderError, redirect)}, nil
	}
	return SocialStart{URL: target, Browser: browser}, nil
}

// socialStartLimits bound the flows an address may start per minute.
func socialStartLimits(cfg Config, ip string) []Limit {
	return []Limit{{Key: "social-start\x00" + addressKey(ip), Max: cfg.LoginFailuresPerIP}}
}

// socialLoginLimits are Login's, with "a social login" where Login has the email: failed
// codes and credentials from an address draw on its budget shared with password logins.
func socialLoginLimits(cfg Config, ip string) []Limit {
	a := addressKey(ip)
	return []Limit{
		{Key: "ip\x00" + a, Max: cfg.LoginFailuresPerIP},
		{Key: "social\x00" + a, Max: cfg.LoginFailuresPerEmail},
	}
}

// socialCallbackURL is the redirect URI registered with the provider.
func (s *Service) socialCallbackURL(typ string) string {
	return strings.TrimRight(s.cfg.Issuer, "/") + SocialPath + typ
}

// socialRedirectURL is the page a social login ends on.
func (s *Service) socialRedirectURL() string {
	if s.cfg.SocialRedirectURL != "" {
		return s.cfg.SocialRedirectURL
	}
	return strings.TrimRight(s.cfg.Issuer, "/") + "/account"
}

// withQuery returns base with params added to its query.
func withQuery(base string, params url.Values) string {
	u, err := url.Parse(base)
	if err != nil { // checked by Config.Validate
		return base
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// socialFailure is the failure redirect.
func (s *Service) socialFailure(typ, reason, redirect string) string {
	q := url.Values{"exceptionType": {"socialNetworkLoginException"}, "socialNetwork": {typ}, "reason": {reason}}
	if redirect != "" {
		q.Set("redirect", redirect)
	}
	return withQuery(s.socialRedirectURL(), q)
}

// keepRedirect returns the redirect parameter when it may be followed: a path on the same site,
// or an absolute URL whose origin is the issuer's, a CORS origin or the social redirect page's.
// Anything else is dropped ("").
func (s *Service) keepRedirect(raw string) string {
	if raw == "" || len(raw) > maxParamLength || strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if !u.IsAbs() {
		// A path: "/cart", never "//evil.example" (another host) nor "evil.example/x".
		if u.Host != "" || u.Scheme != "" || u.User != nil || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
			return ""
		}
		return raw
	}
	allowed := append([]string{s.cfg.Issuer, s.socialRedirectURL()}, s.cfg.CORSOrigins...)
	if u.User == nil && slices.Contains(origins(allowed), origin(u)) {
		return raw
	}
	return ""
}

func origin(u *url.URL) string { return strings.ToLower(u.Scheme + "://" + u.Host) }

func origins(urls []string) []string {
	var out []string
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil && u.IsAbs() && u.Host != "" {
			out = append(out, origin(u))
		}
	}
	return out
}

// SocialCallback is what the browser brought back to SocialPath + type.
type SocialCallback struct {
	State   string
	Browser string // the flow cookie's value
	Code    string
	User    string // Apple's user field
	Error   string // the provider's error parameter (the customer cancelled, or it failed)
}

// FinishSocialLogin ends a browser login: it checks the state against the flow stored and the
// browser's cookie, has the provider exchange the code for the identity, applies the linking rules
// and answers where the browser goes: the social redirect page with a one-time code, or with the
// failure's reason. Only a failure of our own storage is an error.
func (s *Service) FinishSocialLogin(ctx context.Context, typ string, cb SocialCallback) (string, error) {
	p := s.provider(typ)
	if p == nil {
		return "", ErrProviderNotConfigured
	}
	fail := func(reason, redirect string, cause any) (string, error) {
		s.log.InfoContext(ctx, "social login failed", "type", typ, "reason", reason, "cause", cause,
			"remote", ClientFromContext(ctx).IP)
		return s.socialFailure(typ, reason, redirect), nil
	}
	if !isToken(cb.State) {
		return fail(ReasonStateInvalid, "", "no state")
	}
	var f SocialFlow
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		f, err = tx.TakeSocialFlow(hashSecret(cb.State)) // used up whatever follows
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(ReasonStateInvalid, "", "unknown or used state")
	case err != nil:
		return "", internal("auth.FinishSocialLogin", err)
	case f.Type != typ || !s.Now().Before(f.ExpiresAt):
		return fail(ReasonStateInvalid, "", "expired, or another provider's state")
	case subtle.ConstantTimeCompare(hashSecret(cb.Browser), f.BrowserHash) != 1:
		return fail(ReasonStateInvalid, "", "the state was begun in another browser")
	}
	switch {
	case cb.Error == "access_denied" || cb.Error == "user_cancelled_authorize":
		return fail(ReasonCancelled, f.Redirect, cb.Error)
	case cb.Error != "" || cb.Code == "":
		return fail(ReasonProviderError, f.Redirect, "provider error: "+cut(cb.Error, 100))
	}
	id, err := s.callProvider(ctx, func(ctx context.Context) (Identity, error) {
		return p.Exchange(ctx, Callback{Code: cb.Code, User: cb.User}, f.Verifier, s.socialCallbackURL(typ), f.Nonce)
	})
	if err == nil && (id.Type != typ || id.Subject == "") {
		err = fmt.Errorf("%w: an identity of type %q without a subject", ErrProvider, id.Type)
	}
	if err != nil {
		return fail(ReasonProviderError, f.Redirect, err)
	}
	c, d, err := s.linkIdentity(ctx, id, f.LinkCustomerID)
	if err != nil {
		return "", internal("auth.FinishSocialLogin", err)
	}
	if d.Outcome == outcomeRefuse {
		return fail(d.Reason, f.Redirect, "linking rules")
	}
	code, err := newToken()
	if err != nil {
		return "", internal("auth.FinishSocialLogin", err)
	}
	h := HandOff{Hash: hashSecret(code), Purpose: HandOffLogin, CustomerID: c.ID, LoginType: typ, ExternalID: id.Subject,
		IsRegistration: d.Outcome == outcomeRegister, CodeChallenge: f.CodeChallenge, ExpiresAt: s.Now().Add(handOffTTL)}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.PutHandOff(h) }); err != nil {
		return "", internal("auth.FinishSocialLogin", err)
	}
	q, _ := url.ParseQuery(f.Params)
	q.Set("code", code)
	q.Set("isRegistration", fmt.Sprint(h.IsRegistration))
	q.Set("showCartMergeInfo", "false")
	if f.Redirect != "" {
		q.Set("redirect", f.Redirect)
	}
	return withQuery(s.socialRedirectURL(), q), nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// callProvider runs a provider call bounded by ProviderTimeout.
func (s *Service) callProvider(ctx context.Context, call func(context.Context) (Identity, error)) (Identity, error) {
	return bounded(ctx, s.cfg.ProviderTimeout, call)
}

// bounded runs call with a deadline d from now, and returns when that passes even if call does
// not: a slow provider is a provider error, never a hung request.
func bounded[T any](ctx context.Context, d time.Duration, call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%w: %v", ErrProvider, ctx.Err())
	}
}

// linkIdentity loads what the linking rules look at, decides, and applies the decision in one
// transaction. It returns the customer to log in (for every outcome but a refusal).
func (s *Service) linkIdentity(ctx context.Context, id Identity, linkCustomerID int64) (Customer, linkDecision, error) {
	var c Customer
	var d linkDecision
	err := s.store.Update(ctx, func(tx Tx) error {
		st, err := loadLinkState(tx, id, linkCustomerID)
		if err != nil {
			return err
		}
		d = decideLink(st, id)
		c, err = s.applyLink(ctx, tx, id, d)
		return err
	})
	if errors.Is(err, ErrEmailTaken) || errors.Is(err, ErrIdentityTaken) {
		// Another login with this identity or address won the race; this one is refused.
		return Customer{}, linkDecision{Outcome: outcomeRefuse, Reason: ReasonEmailExists}, nil
	}
	return c, d, err
}

func loadLinkState(tx Tx, id Identity, linkCustomerID int64) (linkState, error) {
	var st linkState
	customer := func(id int64) (*Customer, error) {
		c, err := tx.CustomerByID(id)
		return &c, err
	}
	hasOther := func(c *Customer) (bool, error) {
		list, err := tx.SocialIdentities(c.ID)
		return slices.ContainsFunc(list, func(i SocialIdentity) bool { return i.Type == id.Type && i.Subject != id.Subject }), err
	}
	linked, err := tx.SocialIdentity(id.Type, id.Subject)
	switch {
	case err == nil:
		if st.Linked, err = customer(linked.CustomerID); err != nil {
			return st, err
		}
	case !errors.Is(err, ErrNotFound):
		return st, err
	}
	if linkCustomerID != 0 {
		if st.Linking, err = customer(linkCustomerID); err != nil {
			return st, err
		}
		if st.LinkingHasType, err = hasOther(st.Linking); err != nil {
			return st, err
		}
	}
	if email := normalizeEmail(id.Email); plausibleEmail(email) {
		owner, err := tx.CustomerByEmail(email)
		switch {
		case err == nil:
			st.Owner = &owner
			if st.OwnerHasType, err = hasOther(st.Owner); err != nil {
				return st, err
			}
		case !errors.Is(err, ErrNotFound):
			return st, err
		}
	}
	return st, nil
}

// applyLink carries the decision out in tx and returns the customer to log in.
func (s *Service) applyLink(ctx context.Context, tx Tx, id Identity, d linkDecision) (Customer, error) {
	now := s.Now()
	identity := SocialIdentity{Type: id.Type, Subject: id.Subject, Email: d.Email, LinkedAt: now, LastUsedAt: now}
	switch d.Outcome {
	case outcomeLogin:
		return *d.Customer, tx.TouchSocialIdentity(id.Type, id.Subject, now)
	case outcomeRegister:
		c := Customer{UUID: uuid.NewString(), Email: d.Email, FirstName: socialName(id.FirstName), LastName: socialName(id.LastName),
			CreatedAt: now, EmailVerified: d.Verified}
		if err := tx.CreateCustomer(&c); err != nil {
			return Customer{}, err
		}
		identity.CustomerID = c.ID
		if err := tx.CreateSocialIdentity(identity); err != nil {
			return Customer{}, err
		}
		return c, s.audit(ctx, tx, c, "", AuditSocialRegistered.Of(id.Type))
	case outcomeLink:
		c := *d.Customer
		identity.CustomerID = c.ID
		if d.CleanUp {
			// Before the link: the unproven account may hold another identity of this type.
			if _, err := removeUnprovenAccess(tx, &c, ""); err != nil {
				return Customer{}, err
			}
		}
		if err := tx.CreateSocialIdentity(identity); err != nil {
			return Customer{}, err
		}
		if err := s.audit(ctx, tx, c, "", AuditSocialLinked.Of(id.Type)); err != nil {
			return Customer{}, err
		}
		if !d.Verified {
			return c, nil
		}
		c.EmailVerified = true
		if d.CleanUp {
			if err := s.preHijackCleanUp(ctx, tx, &c, id.Type); err != nil {
				return Customer{}, err
			}
		}
		return c, tx.UpdateCustomer(c)
	}
	return Customer{}, nil
}

// preHijackCleanUp removes what someone who never proved the address may have set up on the
// account (removeUnprovenAccess) and the password, every session and a pending recovery. c is
// updated by the caller.
func (s *Service) preHijackCleanUp(ctx context.Context, tx Tx, c *Customer, typ string) error {
	if _, err := removeUnprovenAccess(tx, c, typ); err != nil {
		return err
	}
	c.PasswordHash = ""
	c.SecurityChangedAt = s.Now().Truncate(time.Second) // Shopsys-issued tokens die too
	if _, err := tx.DeleteSessions(c.ID, ""); err != nil {
		return err
	}
	if err := tx.DeleteRecovery(c.ID); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "account pre-hijacking clean-up", "customer", c.UUID, "type", typ)
	return s.audit(ctx, tx, *c, "", AuditPreHijackCleanUp.Of(typ))
}

// removeUnprovenAccess removes the ways to log in that were added while the customer's address
// was unproven: the passkeys and the social identities (none vouched for the address, or it would
// be verified: an attacker's Facebook account, say), except the identity of type keep. It
// answers how many it removed.
func removeUnprovenAccess(tx Tx, c *Customer, keep string) (int, error) {
	others, err := tx.SocialIdentities(c.ID)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, i := range others {
		if i.Type == keep {
			continue
		}
		ok, err := tx.DeleteSocialIdentity(c.ID, i.Type)
		if err != nil {
			return removed, err
		}
		if ok {
			removed++
		}
	}
	n, err := tx.DeletePasskeys(c.ID)
	return removed + n, err
}

// socialName is a provider's name as a customer's: without control characters, at most 100
// characters.
func socialName(s string) string {
	r := []rune(strings.TrimSpace(cleanText(s)))
	if len(r) > 100 {
		r = r[:100]
	}
	return string(r)
}

// LoginResult is what LoginWithSocialCode and LoginWithCredential answer, as Shopsys does.
type LoginResult struct {
	ShowCartMergeInfo bool
	Tokens            TokenPair
}

// errLoginFailed is the one answer to a social login that cannot go ahead; cause is for the log.
func errLoginFailed(cause error) error {
	return &Error{Code: EInvalidCredentials, Message: MsgLoginFailed, Err: cause}
}

// socialAttempt admits a social login attempt under the address's budget (socialLoginLimits).
// failed ends it as a failed login, logging what was refused and why.
func (s *Service) socialAttempt(ctx context.Context, what string) (end func(failed bool), failed func(error) (LoginResult, error), err error) {
	ip := ClientFromContext(ctx).IP
	end, err = s.beginAttempt(ctx, EventLoginThrottled, socialLoginLimits(s.cfg, ip)...)
	if err != nil {
		return nil, nil, err
	}
	failed = func(cause error) (LoginResult, error) {
		end(true)
		s.event(EventLoginFailed)
		s.log.InfoContext(ctx, "social login refused", "what", what, "reason", cause, "remote", ip)
		return LoginResult{}, errLoginFailed(cause)
	}
	return end, failed, nil
}

// LoginWithSocialCode exchanges the one-time code of a social login redirect for a session. The
// code is used up by the first attempt; a wrong, used or expired code, or a verifier that does
// not match the challenge the flow began with, is "Log in failed.".
func (s *Service) LoginWithSocialCode(ctx context.Context, code, codeVerifier string) (LoginResult, error) {
	end, failed, err := s.socialAttempt(ctx, "social code")
	if err != nil {
		return LoginResult{}, err
	}
	if !isToken(code) {
		return failed(errors.New("not a code"))
	}
	var bad error // why the code is refused; the transaction commits its deletion all the same
	var h HandOff
	var c Customer
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		bad = nil
		h, err = tx.TakeHandOff(hashSecret(code))
		switch {
		case errors.Is(err, ErrNotFound):
			bad = errors.New("unknown or used code")
			return nil
		case err != nil:
			return err
		case h.Purpose != HandOffLogin || !s.Now().Before(h.ExpiresAt):
			bad = errors.New("expired code, or a link token")
			return nil
		case h.CodeChallenge != "" && subtle.ConstantTimeCompare([]byte(pkceChallenge(codeVerifier)), []byte(h.CodeChallenge)) != 1:
			bad = errors.New("the code verifier does not match the challenge")
			return nil
		}
		c, err = tx.CustomerByID(h.CustomerID)
		return err
	})
	if err != nil {
		end(false)
		return LoginResult{}, internal("auth.LoginWithSocialCode", err)
	}
	if bad != nil {
		return failed(bad)
	}
	login := LoginInfo{Type: h.LoginType, ExternalID: h.ExternalID, AdministratorUUID: h.AdministratorUUID}
	var first func(Tx) error
	if login.Type == LoginTypeAdmin {
		first = operatorExists(login.AdministratorUUID)
	}
	pair, err := s.startSession(ctx, &c, login, first)
	if errors.Is(err, errOperatorRemoved) {
		return failed(errOperatorRemoved)
	}
	end(false)
	if err != nil {
		return LoginResult{}, err
	}
	s.event(EventLoginOK)
	return LoginResult{Tokens: pair}, nil
}

// CredentialInput is what LoginWithCredential takes (the cart fields are accepted and ignored).
type CredentialInput struct {
	Type, Credential, Nonce string
}

// credentialTypes are the providers whose credential LoginWithCredential takes.
var credentialTypes = []string{LoginTypeGoogle, LoginTypeSeznam, LoginTypeApple, LoginTypeOIDC}

// LoginWithCredential logs in with an id_token (google, apple, oidc) or a Seznam FedCM code, by
// the linking rules of a login. Whatever does not verify or is refused is "Log in failed.";
// failures count against the address like wrong passwords.
func (s *Service) LoginWithCredential(ctx context.Context, in CredentialInput) (LoginResult, error) {
	p := s.provider(in.Type)
	if p == nil || !slices.Contains(credentialTypes, in.Type) {
		var v validator
		v.add("input.type", codeBadLoginType, fmt.Sprintf("Login type %s does not take a credential here.", cut(in.Type, 32)))
		return LoginResult{}, v.err()
	}
	end, failed, err := s.socialAttempt(ctx, in.Type+" credential")
	if err != nil {
		return LoginResult{}, err
	}
	if in.Credential == "" || len(in.Credential) > maxCredentialLength {
		return failed(errors.New("empty or oversized credential"))
	}
	id, err := s.callProvider(ctx, func(ctx context.Context) (Identity, error) {
		return p.VerifyCredential(ctx, in.Credential, in.Nonce)
	})
	if err == nil && (id.Type != in.Type || id.Subject == "") {
		err = fmt.Errorf("%w: an identity of type %q without a subject", ErrProvider, id.Type)
	}
	if err != nil {
		return failed(err)
	}
	c, d, err := s.linkIdentity(ctx, id, 0)
	if err != nil {
		end(false)
		return LoginResult{}, internal("auth.LoginWithCredential", err)
	}
	end(false) // a refusal by the rules is no guess
	if d.Outcome == outcomeRefuse {
		s.event(EventLoginFailed)
		s.log.InfoContext(ctx, "credential login refused", "type", in.Type, "reason", d.Reason)
		return LoginResult{}, errLoginFailed(errors.New(d.Reason))
	}
	pair, err := s.startSession(ctx, &c, LoginInfo{Type: in.Type, ExternalID: id.Subject}, nil)
	if err != nil {
		return LoginResult{}, err
	}
	s.event(EventLoginOK)
	return LoginResult{Tokens: pair}, nil
}

// SocialLinkURL returns the URL that links an account of the provider typ to the caller: our
// start path with a single-use link token, since the browser opening it carries no bearer token.
func (s *Service) SocialLinkURL(ctx context.Context, p *Principal, typ string, redirect *string) (string, error) {
	if p == nil {
		return "", errInvalidToken
	}
	if err := refuseAdministrator(p); err != nil {
		return "", err
	}
	if s.provider(typ) == nil {
		return "", errTypeNotConfigured(typ)
	}
	token, err := newToken()
	if err != nil {
		return "", internal("auth.SocialLinkURL", err)
	}
	h := HandOff{Hash: hashSecret(token), Purpose: HandOffLink, CustomerID: p.Customer.ID, LoginType: typ,
		ExpiresAt: s.Now().Add(linkTokenTTL)}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.PutHandOff(h) }); err != nil {
		return "", internal("auth.SocialLinkURL", err)
	}
	q := url.Values{"link": {token}}
	if redirect != nil && *redirect != "" {
		q.Set("redirect", *redirect)
	}
	return s.socialCallbackURL(typ) + "?" + q.Encode(), nil
}

func errTypeNotConfigured(typ string) error {
	var v validator
	v.add("type", codeBadLoginType, fmt.Sprintf("Login type %s is not configured.", cut(typ, 32)))
	return v.err()
}

// SocialIdentities lists the caller's linked identities.
func (s *Service) SocialIdentities(ctx context.Context, p *Principal) ([]SocialIdentity, error) {
	if p == nil {
		return nil, errInvalidToken
	}
	list, err := s.store.SocialIdentities(ctx, p.Customer.ID)
	if err != nil {
		return nil, internal("auth.SocialIdentities", err)
	}
	return list, nil
}

// UnlinkSocialIdentity unlinks the caller's identity of typ, unless it is their last way to log
// in (no password, no passkey, no other identity).
func (s *Service) UnlinkSocialIdentity(ctx context.Context, p *Principal, typ string) error {
	if p == nil {
		return errInvalidToken
	}
	errNone := errors.New("none linked")
	err := s.store.Update(ctx, func(tx Tx) error {
		c, err := tx.CustomerByID(p.Customer.ID)
		if err != nil {
			return err
		}
		list, err := tx.SocialIdentities(c.ID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(list, func(i SocialIdentity) bool { return i.Type == typ }) {
			return errNone
		}
		passkeys, err := tx.CountPasskeys(c.ID)
		if err != nil {
			return err
		}
		if !c.HasPassword() && passkeys == 0 && len(list) == 1 {
			return &Error{Code: ELastLoginMethod, Message: MsgLastLoginMethod}
		}
		if _, err := tx.DeleteSocialIdentity(c.ID, typ); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, p.DeviceID, AuditSocialUnlinked.Of(typ))
	})
	var e *Error
	switch {
	case errors.Is(err, errNone):
		var v validator
		v.add("type", codeBadLoginType, fmt.Sprintf("No %s account is linked.", cut(typ, 32)))
		return v.err()
	case errors.As(err, &e):
		return e
	case err != nil:
		return internal("auth.UnlinkSocialIdentity", err)
	}
	return nil
}

// ErrLinkInvalid is SocialLinkTarget's answer for a link token that is unknown, used, expired or
// for another provider.
var ErrLinkInvalid = errors.New("the link token is used, expired or not for this provider")

// SocialLinkTarget reads the link token of a SocialLinkUrl without using it up and returns the
// email, masked, of the account it links to: what the confirmation page shows before the browser
// goes to the provider (whoever opens a link URL links their provider account to its maker's
// shop account, so the page says which). An unusable token is ErrLinkInvalid, with the failure
// redirect to send the browser to.
func (s *Service) SocialLinkTarget(ctx context.Context, typ, link, redirect string) (masked, failure string, err error) {
	if s.provider(typ) == nil {
		return "", "", ErrProviderNotConfigured
	}
	failure = s.socialFailure(typ, ReasonStateInvalid, s.keepRedirect(redirect))
	// Each look takes a write transaction: an address may look as often as it may start flows.
	end, err := s.beginAttempt(ctx, EventLoginThrottled, socialStartLimits(s.cfg, ClientFromContext(ctx).IP)...)
	if err != nil {
		return "", "", err
	}
	end(true)
	if !isToken(link) {
		return "", failure, ErrLinkInvalid
	}
	var c Customer
	err = s.store.Update(ctx, func(tx Tx) error {
		// The store has no read that leaves a hand-off in place: take it and put it back in the
		// same transaction.
		h, err := tx.TakeHandOff(hashSecret(link))
		if errors.Is(err, ErrNotFound) {
			return ErrLinkInvalid
		}
		if err != nil {
			return err
		}
		if h.Purpose != HandOffLink || h.LoginType != typ || !s.Now().Before(h.ExpiresAt) {
			return ErrLinkInvalid // rolled back: nothing changes, the token stays unusable
		}
		if c, err = tx.CustomerByID(h.CustomerID); err != nil {
			return err
		}
		return tx.PutHandOff(h)
	})
	switch {
	case errors.Is(err, ErrLinkInvalid), errors.Is(err, ErrNotFound):
		return "", failure, ErrLinkInvalid
	case err != nil:
		return "", "", internal("auth.SocialLinkTarget", err)
	}
	return MaskEmail(c.Email), "", nil
}

// MaskEmail shows an address's first character and its domain: j***@example.com.
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	r := []rune(local)
	if !ok || len(r) == 0 {
		return "***"
	}
	return string(r[0]) + "***@" + domain
}
