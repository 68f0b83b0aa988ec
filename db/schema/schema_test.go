package schema

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestPending(t *testing.T) {
	files := fstest.MapFS{
		"migrations/0001_init.sql":  {Data: []byte("CREATE TABLE a (x INT);")},
		"migrations/0002_more.sql":  {Data: []byte("ALTER TABLE a ADD y INT;")},
		"migrations/0003_extra.sql": {Data: []byte("CREATE TABLE b (x INT);")},
		"migrations/README":         {Data: []byte("not a migration")},
	}
	tests := []struct {
		name     string
		files    fstest.MapFS
		current  int
		versions []int
		err      string
	}{
		{name: "empty database", files: files, current: 0, versions: []int{1, 2, 3}},
		{name: "partly migrated", files: files, current: 2, versions: []int{3}},
		{name: "up to date", files: files, current: 3},
		{name: "newer than the binary", files: files, current: 4, err: "database schema version 4 is newer than this binary knows (3): use a newer shopauth"},
		{name: "a gap", files: fstest.MapFS{
			"migrations/0001_init.sql": {Data: []byte("x")},
			"migrations/0003_skip.sql": {Data: []byte("y")},
		}, err: "migration migrations/0003_skip.sql is out of sequence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pending(tt.files, tt.current)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Pending = %v, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.versions) {
				t.Fatalf("Pending = %+v; want versions %v", got, tt.versions)
			}
			for i, m := range got {
				if m.Version != tt.versions[i] || !strings.HasSuffix(m.Name, ".sql") || m.SQL != string(tt.files[m.Name].Data) {
					t.Errorf("migration %d = %+v; want version %d with its file's SQL", i, m, tt.versions[i])
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	files := fstest.MapFS{
		"migrations/0001_init.sql": {Data: []byte("CREATE TABLE a (x INT);")},
		"migrations/0002_more.sql": {Data: []byte("ALTER TABLE a ADD y INT;")},
		"migrations/0003_b.sql":    {Data: []byte("CREATE TABLE b (x INT);")},
	}
	tests := []struct {
		name    string
		current int
		mode    Mode
		want    int // migrations to apply
		err     string
	}{
		{"current mode sets up an empty database", 0, Current, 3, ""},
		{"current mode refuses an older database", 1, Current, 0, "database schema version 1 is older than this binary's (3): run shopauth db migrate"},
		{"current mode opens an up-to-date database", 3, Current, 0, ""},
		{"current mode refuses a newer database", 4, Current, 0, "newer than this binary knows (3)"},
		{"migrate mode upgrades", 1, Migrate, 2, ""},
		{"migrate mode refuses a newer database", 4, Migrate, 0, "newer than this binary knows (3)"},
		{"as-is mode never migrates", 1, AsIs, 0, ""},
		{"as-is mode opens a newer database", 4, AsIs, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(files, tt.current, tt.mode)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Plan = %d migrations, %v; want an error containing %q", len(got), err, tt.err)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("Plan = %d migrations, %v; want %d", len(got), err, tt.want)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	files := fstest.MapFS{
		"migrations/0001_init.sql": {Data: []byte("x")},
		"migrations/0002_more.sql": {Data: []byte("y")},
	}
	for _, tt := range []struct {
		current int
		want    string
	}{
		{0, "{0 2 [0001_init.sql 0002_more.sql]}"},
		{1, "{1 2 [0002_more.sql]}"},
		{2, "{2 2 []}"},
		{3, "{3 2 []}"},
	} {
		st, err := StatusOf(files, tt.current)
		if got := fmt.Sprint(st); err != nil || got != tt.want {
			t.Errorf("StatusOf(%d) = %s, %v; want %s", tt.current, got, err, tt.want)
		}
	}
}
