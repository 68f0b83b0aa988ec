package main

import (
	"context"
	"fmt"
	"io"
)

// runCommand runs the operator subcommands (keys, customers, backup).
func runCommand(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, topUsage)
	return errUsage
}
