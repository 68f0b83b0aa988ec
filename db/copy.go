package db

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"shopauth/db/sqlstore"
)

// CopyTables are the tables `shopauth db copy` moves, parents before children: everything a live
// token, a grace answer, a passkey, a linked social identity, a social flow or hand-off under way,
// a pending recovery or email verification needs (the chain key and the issuer are settings; the
// signing and refresh keys are key rows), the audit log and the admin console's operators with
// their passkeys and sessions. Not copied: the schema version (each database keeps its own) and
// throttle counters (PostgreSQL only, a minute's worth).
var CopyTables = []string{"customers", "sessions", "recoveries", "passkeys", "passkey_challenges",
	"social_identities", "social_flows", "social_handoffs", "email_verifications",
	"signing_keys", "settings", "audit_log", "console_operators", "console_passkeys", "console_sessions"}

// ErrHasCustomers refuses a copy into a database that already holds customers.
var ErrHasCustomers = sqlstore.ErrHasCustomers

// TableCount is how many rows of a table were copied.
type TableCount struct {
	Table string
	Rows  int
}

// Copy copies every row of CopyTables from src to dst in one transaction on each side: the
// source as of one instant, the destination all or nothing. dst must hold no customers; its own
// keys and settings (a fresh database's) are replaced by the source's, or tokens would not verify.
func Copy(ctx context.Context, src, dst *DB) ([]TableCount, error) {
	from, to := src.sql, dst.sql
	tables, cols := CopyTables, make([][]string, len(CopyTables))
	for i, table := range tables {
		want, err := to.Columns(ctx, table)
		if err != nil {
			return nil, fmt.Errorf("destination table %s: %w", table, err)
		}
		have, err := from.Columns(ctx, table)
		if err != nil {
			return nil, fmt.Errorf("source table %s: %w", table, err)
		}
		if !sameSet(want, have) {
			return nil, fmt.Errorf("table %s has columns %v in the source and %v in the destination: migrate both with the same shopauth", table, have, want)
		}
		cols[i] = want
	}
	counts := make([]TableCount, len(tables))
	for i, table := range tables {
		counts[i].Table = table
	}
	err := to.WriteRows(ctx, tables, cols, func(insert func(int, []any) error) error {
		return from.ReadRows(ctx, tables, cols, func(table int, row []any) error {
			counts[table].Rows++
			return insert(table, row)
		})
	})
	if errors.Is(err, ErrHasCustomers) {
		return nil, fmt.Errorf("%w; db copy only fills a new or empty database, and copies nothing here", err)
	}
	if err != nil {
		return nil, err
	}
	return counts, nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
