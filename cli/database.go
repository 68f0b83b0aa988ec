package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"shopauth/db"
)

// A command either needs the database to be there already, or seeds a new shop and may create it.
// Only serve and the seeding commands (customers add, customers import, keys import, the
// destination of db copy) create a missing SQLite file: anything else given a typo for --db would
// otherwise make an empty database and report success on it (a backup cron job writing empty
// copies forever).

// A command either needs the database to be there already, or seeds a new shop and may create it.
// Only serve and the seeding commands (customers add, customers import, keys import, the
// destination of db copy) create a missing SQLite file: anything else given a typo for --db would
// otherwise make an empty database and report success on it (a backup cron job writing empty
// copies forever).
type DBUse int

const (
	ExistingDB DBUse = iota // refuse a path that does not exist
	SeedDB                  // create a missing file and say so
)

// errNoDatabase is returned for a --db file that does not exist, for a command that does not create one.
type errNoDatabase struct{ path string }

func (e errNoDatabase) Error() string {
	return fmt.Sprintf("database %s does not exist (check --db; shopauth serve, customers add|import, keys import and db copy --to create one)", e.path)
}

// CheckDB applies use to path before it is opened: it returns errNoDatabase for a missing file
// that must exist, and reports whether opening will create the file.
func CheckDB(path string, use DBUse) (create bool, err error) {
	if db.IsPostgres(path) {
		return false, nil
	}
	_, err = os.Stat(path)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("database %s: %w", path, err)
	case use == ExistingDB:
		return false, errNoDatabase{path}
	}
	return true, nil
}

// sayCreated tells the operator that a seeding command made a new database, on stderr so that
// the command's own output stays what scripts expect.
func sayCreated(stderr io.Writer, path string) {
	fmt.Fprintf(stderr, "shopauth: created a new database %s\n", AbsPath(path))
}

// AbsPath is path made absolute, to name a file the operator can find whatever the working directory.
func AbsPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	return abs
}

// checkFolder refuses an output file whose folder does not exist, naming the folder: the
// storage layer's own error would name a temporary file or say only "unable to open".
func checkFolder(file string) error {
	dir := filepath.Dir(file)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("folder %s does not exist (create it first)", dir)
	case err != nil:
		return fmt.Errorf("folder %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	}
	return nil
}

// RedactDB hides the password of a database URL (postgres://user:secret@host/db).
func RedactDB(db string) string {
	u, err := url.Parse(db)
	if err != nil || u.Scheme == "" {
		return db
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// MigratedMessage is what serve logs and db migrate prints after applying migrations.
func MigratedMessage(from, to int) string {
	return fmt.Sprintf("migrated the database from schema %d to %d", from, to)
}
