package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"shopauth/auth"
)

const keysUsage = `Usage:
  shopauth keys list                       the key ring: which key signs, which still verify
  shopauth keys rotate [--signing-alg ALG] a new key, published now, signs in 5.5 minutes (--now: at once)
  shopauth keys import --private-key FILE  a Shopsys private.key signs from now on

A running server picks up rotated and imported keys within 30 s. Older keys stay in the
JWKS and keep verifying until every token they signed has expired. Refresh tokens are signed
with a refresh key (HS256, never published) that keys rotate renews too.
Run shopauth keys COMMAND --help for its flags.
`

func runKeysList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("keys list", "keys list [--db FILE]\n\nLists the keys, oldest first: the signing keys (in the JWKS while live) and the refresh keys\n(HS256, never published). STATUS says which key signs new tokens, which is next (published,\nsigns from SIGNS FROM), which are live (may still have unexpired tokens) and which came from Shopsys.", stdout, stderr)
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	return withService(ctx, *dbPath, ExistingDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "KID\tALG\tSIGNS FROM\tSTATUS")
		for _, k := range svc.Keys() {
			var status []string
			if k.Refresh {
				status = append(status, "refresh")
			}
			if k.Signing {
				status = append(status, "signing")
			}
			if k.Pending {
				status = append(status, "next")
			}
			if k.Live {
				status = append(status, "live")
			} else {
				status = append(status, "retired")
			}
			if k.Shopsys {
				status = append(status, "shopsys")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), strings.Join(status, ","))
		}
		return w.Flush()
	})
}

func runKeysRotate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("keys rotate", "keys rotate [--signing-alg RS256|ES256|EdDSA] [--now] [--db FILE]\n\nMakes a new signing key and a new refresh key. The signing key is published in the JWKS at\nonce (a running server reloads the ring within 30 s) and signs once it has been published for\nthe JWKS cache lifetime (5 minutes), so verifiers holding a cached JWKS never meet an unknown\nkid; --now signs with it at once (for a key that leaked). While a key of the algorithm is\nalready pending (published, not yet signing), keys rotate keeps it and adds nothing. Older keys keep verifying until the\ntokens they signed have expired: nobody is logged out.", stdout, stderr)
	cfg := auth.DefaultConfig()
	fs.StringVar(&cfg.SigningAlgorithm, "signing-alg", cfg.SigningAlgorithm, "algorithm of the new key: RS256, ES256 or EdDSA")
	now := fs.Bool("now", false, "sign with the new keys at once (for a key that leaked)")
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return UsageError(fs, "%v", err)
	}
	return withService(ctx, *dbPath, ExistingDB, cfg, stderr, func(svc *auth.Service) error {
		start := auth.SignAfterPublishing
		if *now {
			start = auth.SignNow
		}
		r, err := svc.RotateKey(ctx, cfg.SigningAlgorithm, start)
		if err != nil {
			return err
		}
		k := r.Key
		switch {
		case r.AlreadyPending:
			fmt.Fprintf(stdout, "a next key is already pending: %s (%s), signing from %s; no key was added (--now makes one that signs at once)\n",
				k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339))
		case *now:
			fmt.Fprintf(stdout, "new signing key %s (%s) signs now; a running server uses it within 30 s\n", k.ID, k.Algorithm)
		default:
			fmt.Fprintf(stdout, "new signing key %s (%s) is published now and signs from %s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339))
		}
		return nil
	})
}

func runKeysImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("keys import", "keys import --private-key FILE.pem [--db FILE]\n\nImports a Shopsys private.key (RSA, PKCS#1 or PKCS#8 PEM, not encrypted) and signs with it\nfrom now on, so services that trust its public key accept shopauth's tokens unchanged, and\naccess tokens Shopsys issued (they carry no kid) keep verifying until they expire.", stdout, stderr)
	keyFile := fs.String("private-key", "", "PEM `file` of the private key")
	if err := ParseFlagsNoArgs(fs, args); err != nil {
		return err
	}
	if *keyFile == "" {
		return UsageError(fs, "--private-key is required")
	}
	pemBytes, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	k, err := auth.ParsePrivateKeyPEM(pemBytes, time.Now(), true)
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	return withService(ctx, *dbPath, SeedDB, auth.DefaultConfig(), stderr, func(svc *auth.Service) error {
		for _, have := range svc.Keys() {
			if have.ID == k.ID {
				return fmt.Errorf("key %s is already in the key ring", k.ID)
			}
		}
		if err := svc.AddKey(ctx, k); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported Shopsys key %s (%s); it signs from now on (a running server uses it within 30 s)\n", k.ID, k.Algorithm)
		return nil
	})
}
