package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"shopauth/db"
	"shopauth/db/schema"
	"shopauth/internal/pgtest"
)

// TestAbilities: each store says what it can do, and nothing it cannot: SQLite has a file to
// check, back up and checkpoint; PostgreSQL a shared throttle and a key watcher.
func TestAbilities(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target func(t *testing.T) string
		// want: throttle, watch keys, checkpoint, check file, backup
		want [5]bool
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "shop.db") }, [5]bool{false, false, true, true, true}},
		{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }, [5]bool{true, true, false, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := db.Open(context.Background(), tc.target(t), schema.Migrate)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := [5]bool{d.Throttle != nil, d.WatchKeys != nil, d.Checkpoint != nil, d.CheckFile != nil, d.Backup != nil}
			if got != tc.want {
				t.Errorf("abilities (throttle, watch keys, checkpoint, check file, backup) = %v, want %v", got, tc.want)
			}
		})
	}
}
