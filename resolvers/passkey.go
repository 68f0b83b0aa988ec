package resolvers

import (
	"context"

	"shopauth/auth"
)

// Passkey resolves the Passkey type.
type Passkey struct{ p auth.PasskeyInfo }

func (p *Passkey) ID() string        { return p.p.ID }
func (p *Passkey) Name() string      { return p.p.Name }
func (p *Passkey) CreatedAt() string { return formatTime(p.p.CreatedAt) }
func (p *Passkey) LastUsedAt() *string {
	if p.p.LastUsedAt.IsZero() {
		return nil
	}
	t := formatTime(p.p.LastUsedAt)
	return &t
}

// Passkeys lists the caller's passkeys.
func (q *Query) Passkeys(ctx context.Context) ([]*Passkey, error) {
	list, err := q.svc.Passkeys(ctx, auth.PrincipalFromContext(ctx))
	if err != nil {
		return nil, q.fail(ctx, err)
	}
	out := make([]*Passkey, len(list))
	for i := range list {
		out[i] = &Passkey{list[i]}
	}
	return out, nil
}

func (m *Mutation) PasskeyRegistrationOptions(ctx context.Context) (string, error) {
	opts, err := m.svc.PasskeyRegistrationOptions(ctx, auth.PrincipalFromContext(ctx))
	if err != nil {
		return "", m.fail(ctx, err)
	}
	return opts, nil
}

type registerPasskeyArgs struct {
	Input struct {
		Credential string
		Name       *string
	}
}

func (m *Mutation) RegisterPasskey(ctx context.Context, args registerPasskeyArgs) (*Passkey, error) {
	p, err := m.svc.RegisterPasskey(ctx, auth.PrincipalFromContext(ctx), args.Input.Credential, args.Input.Name)
	if err != nil {
		return nil, m.fail(ctx, err)
	}
	return &Passkey{p}, nil
}

type removePasskeyArgs struct{ ID string }

func (m *Mutation) RemovePasskey(ctx context.Context, args removePasskeyArgs) (bool, error) {
	if err := m.svc.RemovePasskey(ctx, auth.PrincipalFromContext(ctx), args.ID); err != nil {
		return false, m.fail(ctx, err)
	}
	return true, nil
}

func (m *Mutation) PasskeyLoginOptions(ctx context.Context) (string, error) {
	opts, err := m.svc.PasskeyLoginOptions(ctx)
	if err != nil {
		return "", m.fail(ctx, err)
	}
	return opts, nil
}

type loginWithPasskeyArgs struct {
	Input struct{ Credential string }
}

func (m *Mutation) LoginWithPasskey(ctx context.Context, args loginWithPasskeyArgs) (*Token, error) {
	pair, err := m.svc.LoginWithPasskey(ctx, args.Input.Credential)
	return m.token(ctx, pair, err)
}
