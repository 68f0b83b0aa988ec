package resolvers

import (
	"context"

	"shopauth/auth"
)

// Service is what the resolvers ask of the domain; *auth.Service satisfies it, and a test may
// hand them a fake.
type Service interface {
	CurrentCustomer(p *auth.Principal) (auth.Customer, error)
	Sessions(ctx context.Context, p *auth.Principal) ([]auth.SessionInfo, error)

	Login(ctx context.Context, email, password string) (auth.TokenPair, error)
	Logout(ctx context.Context, p *auth.Principal) error
	Refresh(ctx context.Context, refreshToken string) (auth.TokenPair, error)
	Register(ctx context.Context, in auth.RegisterInput) (auth.TokenPair, error)
	ChangePassword(ctx context.Context, p *auth.Principal, email, oldPassword, newPassword string) (auth.Customer, error)
	ChangePersonalData(ctx context.Context, p *auth.Principal, in auth.PersonalData) (auth.Customer, error)
	RevokeSessions(ctx context.Context, p *auth.Principal, scope auth.SessionScope) (int, error)
	RequestPasswordRecovery(ctx context.Context, email string) error
	RecoverPassword(ctx context.Context, email, hash, newPassword string) (auth.TokenPair, error)

	Passkeys(ctx context.Context, p *auth.Principal) ([]auth.PasskeyInfo, error)
	PasskeyRegistrationOptions(ctx context.Context, p *auth.Principal) (string, error)
	RegisterPasskey(ctx context.Context, p *auth.Principal, credential string, name *string) (auth.PasskeyInfo, error)
	RemovePasskey(ctx context.Context, p *auth.Principal, id string) error
	PasskeyLoginOptions(ctx context.Context) (string, error)
	LoginWithPasskey(ctx context.Context, credential string) (auth.TokenPair, error)

	SocialTypes() []string
	SocialIdentities(ctx context.Context, p *auth.Principal) ([]auth.SocialIdentity, error)
	LoginWithCredential(ctx context.Context, in auth.CredentialInput) (auth.LoginResult, error)
	LoginWithSocialCode(ctx context.Context, code, codeVerifier string) (auth.LoginResult, error)
	SocialLinkURL(ctx context.Context, p *auth.Principal, typ string, redirect *string) (string, error)
	UnlinkSocialIdentity(ctx context.Context, p *auth.Principal, typ string) error
	RequestEmailVerification(ctx context.Context, p *auth.Principal) error
	VerifyEmail(ctx context.Context, email, hash string) error
}

var _ Service = (*auth.Service)(nil)
