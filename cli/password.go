package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"shopauth/auth"
)

// maxPasswordInput bounds what is read of standard input for a password: a password is one line,
// and a file piped in by mistake (a 200 MB dump) is refused after this much, not read whole.
const maxPasswordInput = 4 << 10

// readPassword reads a password so that it stays out of the shell history and the process list: on
// a terminal it asks for it without echo, twice when confirm is set; otherwise it is the first line
// of standard input, of at most maxPasswordInput bytes.
func readPassword(stdin io.Reader, stderr io.Writer, prompt string, confirm bool) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		first, err := askPassword(f, stderr, prompt+": ")
		if err != nil || !confirm {
			return first, err
		}
		again, err := askPassword(f, stderr, "Repeat it: ")
		if err != nil {
			return "", err
		}
		if again != first {
			return "", errors.New("the two passwords differ; nothing changed")
		}
		return first, nil
	}
	r := bufio.NewReader(io.LimitReader(stdin, maxPasswordInput+1))
	line, err := r.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	switch {
	case len(line) > maxPasswordInput:
		return "", fmt.Errorf("standard input: the first line is longer than %d bytes, which is no password; "+
			"pipe in one line: printf '%%s\\n' \"$PASSWORD\" | shopauth ...", maxPasswordInput)
	case err != nil && !errors.Is(err, io.EOF):
		return "", fmt.Errorf("read password: %w", err)
	}
	return line, nil
}

// askPassword prompts on stderr and reads one line from the terminal f without echo.
func askPassword(f *os.File, stderr io.Writer, prompt string) (string, error) {
	fmt.Fprint(stderr, prompt)
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if len(p) > maxPasswordInput {
		return "", fmt.Errorf("the password is longer than %d bytes", maxPasswordInput)
	}
	return string(p), nil
}

func runCustomersSetPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("customers set-password", `customers set-password EMAIL [--db FILE] < password

Sets the customer's password, asked for twice without echo on a terminal, or else the first
line of standard input (at most 4 KiB), checked as ChangePassword checks a new one, and ends every session of theirs: their access tokens stop working at once
and every device logs in again. Audited. printf '%s\n' "$PASSWORD" | shopauth customers set-password EMAIL`, stdout, stderr)
	cfg := auth.DefaultConfig()
	fs.IntVar(&cfg.MinPasswordLength, "min-password-length", cfg.MinPasswordLength, "minimum password length (use the server's)")
	email, err := emailCommand(fs, args)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return UsageError(fs, "%v", err)
	}
	password, err := readPassword(stdin, stderr, "New password for "+email, true)
	if err != nil {
		return err
	}
	return withService(ctx, *dbPath, ExistingDB, cfg, stderr, func(svc *auth.Service) error {
		n, err := svc.SetPassword(ctx, email, password)
		if err != nil {
			return customerError(err)
		}
		fmt.Fprintf(stdout, "password of %s set; %d sessions ended\n", email, n)
		return nil
	})
}
