package schema

import (
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
