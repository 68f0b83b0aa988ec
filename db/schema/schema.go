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

// Mode says what opening a database does about migrations it has not seen yet.
type Mode int

const (
	// Current opens a database whose schema is this binary's. An empty one (version 0) is set up;
	// an older one is refused with *Outdated, so that a command never upgrades the database under
	// a running server of an older release (which could not start again on it).
	Current Mode = iota
	// Migrate applies what is pending: shopauth serve and shopauth db migrate.
	Migrate
	// AsIs neither migrates nor refuses (shopauth backup, shopauth db status).
	AsIs
)

// Outdated refuses a database whose schema is older than the binary's.
type Outdated struct{ Current, Latest int }

func (e *Outdated) Error() string {
	return fmt.Sprintf("database schema version %d is older than this binary's (%d): run shopauth db migrate to upgrade it "+
		"(servers of the older release cannot use it afterwards; shopauth serve of this release migrates too)", e.Current, e.Latest)
}

// Plan returns the migrations to apply, under mode, to a database at version current.
func Plan(fsys fs.FS, current int, mode Mode) ([]Migration, error) {
	if mode == AsIs {
		return nil, nil
	}
	pending, err := Pending(fsys, current)
	if err != nil {
		return nil, err
	}
	if mode == Current && current > 0 && len(pending) > 0 {
		return nil, &Outdated{Current: current, Latest: pending[len(pending)-1].Version}
	}
	return pending, nil
}

// Status is where a database stands against the binary.
type Status struct {
	Current int      // the database's schema version; 0 for an empty database
	Latest  int      // the binary's
	Pending []string // the names of the migrations not applied yet, oldest first
}

// StatusOf says where a database at version current stands against fsys's migrations. A database
// newer than the binary is no error here: Current > Latest says so.
func StatusOf(fsys fs.FS, current int) (Status, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return Status{}, err
	}
	st := Status{Current: current, Latest: len(names)}
	if current > st.Latest {
		return st, nil
	}
	pending, err := Pending(fsys, current)
	if err != nil {
		return Status{}, err
	}
	for _, m := range pending {
		st.Pending = append(st.Pending, path.Base(m.Name))
	}
	return st, nil
}

// Applied is what opening a database migrated: the schema versions before and after (equal when
// nothing was applied). The stores embed it.
type Applied struct{ From, To int }

// Migrated returns the schema versions before and after Open.
func (a Applied) Migrated() (from, to int) { return a.From, a.To }
