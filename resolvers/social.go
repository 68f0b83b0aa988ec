package resolvers

import (
	"context"

	"shopauth/auth"
)

// LoginInfo resolves LoginInfo: how the caller's session began.
type LoginInfo struct{ l auth.LoginInfo }

func (l *LoginInfo) LoginType() string { return l.l.Type }
func (l *LoginInfo) ExternalID() *string {
	if l.l.ExternalID == "" {
		return nil // web, passkey and admin logins have none
	}
	id := l.l.ExternalID
	return &id
}

// Settings resolves Settings.
type Settings struct{ types []string }

func (s *Settings) SocialNetworkLoginConfig() []string { return s.types }

func (q *Query) Settings() *Settings {
	types := q.svc.SocialTypes()
	if types == nil {
		types = []string{}
	}
	return &Settings{types}
}

// SocialIdentity resolves SocialIdentity.
type SocialIdentity struct{ i auth.SocialIdentity }

func (i *SocialIdentity) Type() string       { return i.i.Type }
func (i *SocialIdentity) ExternalID() string { return i.i.Subject }
func (i *SocialIdentity) Email() *string {
	if i.i.Email == "" {
		return nil
	}
	e := i.i.Email
	return &e
}
func (i *SocialIdentity) LinkedAt() string { return formatTime(i.i.LinkedAt) }
func (i *SocialIdentity) LastUsedAt() *string {
	if i.i.LastUsedAt.IsZero() {
		return nil
	}
	t := formatTime(i.i.LastUsedAt)
	return &t
}

func (q *Query) SocialIdentities(ctx context.Context) ([]*SocialIdentity, error) {
	list, err := q.svc.SocialIdentities(ctx, auth.PrincipalFromContext(ctx))
	if err != nil {
		return nil, q.fail(ctx, err)
	}
	out := make([]*SocialIdentity, len(list))
	for i := range list {
		out[i] = &SocialIdentity{list[i]}
	}
	return out, nil
}

// LoginResult resolves LoginResult.
type LoginResult struct{ r auth.LoginResult }

func (r *LoginResult) ShowCartMergeInfo() bool { return r.r.ShowCartMergeInfo }
func (r *LoginResult) Tokens() *Token          { return &Token{r.r.Tokens} }

func (r *Root) loginResult(ctx context.Context, res auth.LoginResult, err error) (*LoginResult, error) {
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &LoginResult{res}, nil
}

type loginWithCredentialArgs struct {
	Input struct {
		Type       string
		Credential string
		Nonce      *string
		// Shopsys's cart fields: accepted and ignored, shopauth keeps no carts.
		CartUuid                        *Uuid
		ProductListsUuids               []Uuid
		ShouldOverwriteCustomerUserCart bool
	}
}

func (m *Mutation) LoginWithCredential(ctx context.Context, args loginWithCredentialArgs) (*LoginResult, error) {
	in := auth.CredentialInput{Type: args.Input.Type, Credential: args.Input.Credential}
	if args.Input.Nonce != nil {
		in.Nonce = *args.Input.Nonce
	}
	res, err := m.svc.LoginWithCredential(ctx, in)
	return m.loginResult(ctx, res, err)
}

type loginWithSocialCodeArgs struct {
	Input struct {
		Code         string
		CodeVerifier *string
	}
}

func (m *Mutation) LoginWithSocialCode(ctx context.Context, args loginWithSocialCodeArgs) (*LoginResult, error) {
	verifier := ""
	if args.Input.CodeVerifier != nil {
		verifier = *args.Input.CodeVerifier
	}
	res, err := m.svc.LoginWithSocialCode(ctx, args.Input.Code, verifier)
	return m.loginResult(ctx, res, err)
}

type socialLinkArgs struct {
	Type     string
	Redirect *string
}

func (m *Mutation) SocialLinkUrl(ctx context.Context, args socialLinkArgs) (string, error) {
	u, err := m.svc.SocialLinkURL(ctx, auth.PrincipalFromContext(ctx), args.Type, args.Redirect)
	if err != nil {
		return "", m.fail(ctx, err)
	}
	return u, nil
}

type unlinkArgs struct{ Type string }

func (m *Mutation) UnlinkSocialIdentity(ctx context.Context, args unlinkArgs) (bool, error) {
	if err := m.svc.UnlinkSocialIdentity(ctx, auth.PrincipalFromContext(ctx), args.Type); err != nil {
		return false, m.fail(ctx, err)
	}
	return true, nil
}

func (m *Mutation) RequestEmailVerification(ctx context.Context) (bool, error) {
	if err := m.svc.RequestEmailVerification(ctx, auth.PrincipalFromContext(ctx)); err != nil {
		return false, m.fail(ctx, err)
	}
	return true, nil
}

type verifyEmailArgs struct {
	Input struct{ Email, Hash string }
}

func (m *Mutation) VerifyEmail(ctx context.Context, args verifyEmailArgs) (bool, error) {
	if err := m.svc.VerifyEmail(ctx, args.Input.Email, args.Input.Hash); err != nil {
		return false, m.fail(ctx, err)
	}
	return true, nil
}
