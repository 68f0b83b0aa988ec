package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Flag plumbing shared by every command and serve: a flag set whose asked-for help goes to
// stdout, values from SHOPAUTH_* variables, and mistakes said in one line with a hint.

// ErrUsage marks a command-line mistake: exit status 2, as Go tools do.
var ErrUsage = errors.New("usage")

// NewFlagSet returns a flag set whose errors go to stderr and whose asked-for usage (--help) goes
// to stdout, with --db on it. synopsis is the usage line after "shopauth ", then a blank line and
// what the command does.
func NewFlagSet(name, synopsis string, stdout, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("shopauth "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		// Asked-for help goes to standard output, as `shopauth help` does, so that
		// `shopauth serve --help | less` works; mistakes go to standard error.
		fs.SetOutput(stdout)
		defer fs.SetOutput(stderr)
		fmt.Fprintf(stdout, "Usage: shopauth %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintln(stdout, "\nEvery flag can also be set as an environment variable: SHOPAUTH_ and the flag's name\nin capitals with - as _ (--access-ttl is SHOPAUTH_ACCESS_TTL). Flags win over the environment.")
	}
	return fs, fs.String("db", "shopauth.db", "SQLite database `file`, or PostgreSQL URL (postgres://user:pass@host:5432/name)")
}

// ParseFlags reads flags from args, then from SHOPAUTH_* environment variables (a flag on the
// command line wins). --help prints the command's usage. A mistake in either is ErrUsage, after
// the message and a one-line hint (not the whole usage, which would bury the message) went to the
// flag set's output.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {} // the flag package calls it for help and for mistakes alike
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case err == nil:
		if err = setFromEnvironment(fs); err == nil {
			return nil
		}
		fmt.Fprintln(fs.Output(), err)
	case errors.Is(err, flag.ErrHelp):
		usage()
		return err
	} // else the flag package printed the mistake
	printHint(fs)
	return ErrUsage
}

// envName is the environment variable of a flag: --access-ttl is SHOPAUTH_ACCESS_TTL.
func envName(flagName string) string {
	return "SHOPAUTH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// setFromEnvironment sets every flag the command line left alone from its non-empty SHOPAUTH_*
// variable. A bad value is named with the command, the variable and the flag.
func setFromEnvironment(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		key := envName(f.Name)
		value, ok := os.LookupEnv(key)
		if err != nil || given[f.Name] || !ok || value == "" {
			return
		}
		if e := fs.Set(f.Name, value); e != nil {
			err = fmt.Errorf("%s: invalid value %q for %s (--%s): %v", fs.Name(), value, key, f.Name, parseError(f, value, e))
		}
	})
	return err
}

// parseError is why value is not one of f's: the flag package says only "parse error" for its
// numbers, durations and booleans, so those are parsed again for the reason.
func parseError(f *flag.Flag, value string, err error) error {
	getter, ok := f.Value.(flag.Getter)
	if !ok {
		return err
	}
	var e error
	switch getter.Get().(type) {
	case time.Duration:
		_, e = time.ParseDuration(value)
	case int, int64:
		_, e = strconv.ParseInt(value, 0, 64)
	case uint, uint64:
		_, e = strconv.ParseUint(value, 0, 64)
	case float64:
		_, e = strconv.ParseFloat(value, 64)
	case bool:
		_, e = strconv.ParseBool(value)
	}
	if e == nil {
		return err // in range for the parser, out of it for the flag
	}
	return e
}

// parseInterspersed parses flags that may come before and after the positional arguments
// (`shopauth backup FILE --db x.db`), which the flag package alone stops at, and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := ParseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// printHint points at the command's --help after a mistake, in one line.
func printHint(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), "see %s --help\n", fs.Name())
}

// UsageError reports a command-line mistake found after parsing: the message, named after the
// command, then the one-line hint. It returns ErrUsage (exit status 2).
func UsageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	printHint(fs)
	return ErrUsage
}

// ParseFlagsNoArgs parses like ParseFlags for a command that takes flags only, and refuses a
// positional argument as a usage error naming it.
func ParseFlagsNoArgs(fs *flag.FlagSet, args []string) error {
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return UsageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
