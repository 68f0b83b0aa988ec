// Package schema holds the one rule both stores migrate by: numbered .sql files embedded per
// dialect (0001_name.sql, 0002_…, numbered from 1 without gaps), each applied once, in order.
// The stores keep how a migration is applied and where the version is kept (PRAGMA user_version,
// a shopauth_schema table); what is pending, and what is refused, is decided here.
package schema

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one embedded .sql file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Pending returns the migrations in fsys's migrations/*.sql newer than current, oldest first. A
// database at a version newer than the files reach is refused (an older binary must not write to
// it), and so is a file out of sequence.
func Pending(fsys fs.FS, current int) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	if current > len(names) {
		return nil, fmt.Errorf("database schema version %d is newer than this binary knows (%d): use a newer shopauth", current, len(names))
	}
	var pending []Migration
	for i, name := range names {
		version := i + 1
		if n, _ := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0]); n != version {
			return nil, fmt.Errorf("migration %s is out of sequence", name)
		}
		if version <= current {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		pending = append(pending, Migration{Version: version, Name: name, SQL: string(body)})
	}
	return pending, nil
}
