package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"shopauth/auth"
)

// csvColumns are the columns an import file may name, in the spelling the header uses.
var csvColumns = []string{"email", "firstName", "lastName", "telephone", "password", "passwordHash", "uuid"}

// maxReportedRows bounds the problems an import lists, so a wholly wrong file does not flood the terminal.
const maxReportedRows = 20

func runCustomersImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, dbPath := NewFlagSet("customers import", `customers import FILE.csv [--db FILE]

Adds every customer of a CSV file (UTF-8, comma-separated, RFC 4180 quoting) in one
transaction: if any row is wrong nothing is added, and each wrong row is named as "line N"
(the header is line 1). The header names the columns, in any order:

  email, firstName, lastName   required
  telephone                    optional
  passwordHash or password     exactly one of them: a Shopsys bcrypt hash ($2y$, $2a$, $2b$;
                               cost at most 14), kept and upgraded at the customer's next
                               login, or a plain password, hashed now
  uuid                         optional: the Shopsys customer UUID, so that tokens Shopsys
                               issued keep naming the same customer (default: a new one)`, stdout, stderr)
	cfg := auth.DefaultConfig()
	fs.IntVar(&cfg.MinPasswordLength, "min-password-length", cfg.MinPasswordLength, "minimum length of plain passwords")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return UsageError(fs, "name one CSV file")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rows, lines, err := readCustomersCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	return withService(ctx, *dbPath, SeedDB, cfg, stderr, func(svc *auth.Service) error {
		added, err := svc.ImportCustomers(ctx, rows)
		if err != nil {
			var msgs []string
			for _, e := range unjoin(err) {
				var rowErr *auth.RowError
				if !errors.As(e, &rowErr) {
					return err
				}
				if len(msgs) == maxReportedRows {
					msgs = append(msgs, "…")
					break
				}
				msg := fmt.Sprintf("line %d: %s", lines[rowErr.Index], rowErr.Reason)
				if rowErr.Earlier > 0 {
					msg += fmt.Sprintf(" (by line %d)", lines[rowErr.Earlier-1])
				}
				msgs = append(msgs, msg)
			}
			return fmt.Errorf("%s: nothing imported:\n%s", files[0], strings.Join(msgs, "\n"))
		}
		noun := "customers"
		if len(added) == 1 {
			noun = "customer"
		}
		fmt.Fprintf(stdout, "imported %d %s\n", len(added), noun)
		return nil
	})
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// readCustomersCSV reads an import file into customers and the line each one starts on.
func readCustomersCSV(r io.Reader) ([]auth.NewCustomer, []int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0 // every row as long as the header
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("line 1: the file is empty; it needs a header row")
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	col := map[string]int{}
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\uFEFF"))
		known := ""
		for _, c := range csvColumns {
			if strings.EqualFold(name, c) {
				known = c
			}
		}
		switch {
		case known == "":
			return nil, nil, fmt.Errorf("line 1: unknown column %q (want %s)", name, strings.Join(csvColumns, ", "))
		case col[known] != 0:
			return nil, nil, fmt.Errorf("line 1: column %s appears twice", known)
		}
		col[known] = i + 1 // 0 means absent
	}
	for _, c := range []string{"email", "firstName", "lastName"} {
		if col[c] == 0 {
			return nil, nil, fmt.Errorf("line 1: the header lacks the column %s", c)
		}
	}
	if (col["password"] == 0) == (col["passwordHash"] == 0) {
		return nil, nil, errors.New("line 1: the header must name exactly one of passwordHash and password")
	}
	cell := func(rec []string, name string) string {
		if i := col[name]; i > 0 {
			return rec[i-1]
		}
		return ""
	}
	var rows []auth.NewCustomer
	var lines []int
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, lines, nil
		}
		if err != nil {
			return nil, nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		n := auth.NewCustomer{
			UUID: strings.TrimSpace(cell(rec, "uuid")), Email: cell(rec, "email"),
			FirstName: cell(rec, "firstName"), LastName: cell(rec, "lastName"),
			Password: cell(rec, "password"), PasswordHash: strings.TrimSpace(cell(rec, "passwordHash")),
		}
		if tel := strings.TrimSpace(cell(rec, "telephone")); tel != "" {
			n.Telephone = &tel
		}
		if col["passwordHash"] != 0 && n.PasswordHash == "" {
			// Otherwise an empty hash would read as "no hash, use the (absent) password".
			n.PasswordHash = "(empty)"
		}
		rows = append(rows, n)
		lines = append(lines, line)
	}
}

// csvError words a CSV syntax error as "line N: …".
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}
