package main

import (
	"context"
	"time"

	"shopauth/cli"
)

// fileCheckInterval is how often a running server checks that its SQLite file is still the one it
// opened.
const fileCheckInterval = 5 * time.Second

// warnCreated says, once and at warning level, that serve made a new database: on a first start
// that is expected, but on a server that had customers it means the database went missing (a
// wrong --db, a deleted file), and a new signing key and an empty customer table are about to be
// used.
func (m *Main) warnCreated() {
	m.Log.Warn("created a new database", "path", cli.AbsPath(m.DBPath),
		"note", "expected on a first start; if this server had customers, its database is missing "+
			"(check --db, or restore a backup) and every token issued before stops working")
}

// watchDatabaseFile stops the server when its SQLite file is deleted or replaced under it: SQLite
// would go on answering writes into the unlinked file, all lost at the next start.
func (m *Main) watchDatabaseFile(ctx context.Context, fatal chan<- error) {
	if m.DB.CheckFile == nil { // PostgreSQL: no file
		return
	}
	t := time.NewTicker(fileCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.DB.CheckFile(); err != nil {
				m.Log.Error("STOPPING: the database file was deleted or replaced under the running server; "+
					"writes would be lost. Restore it (or a backup) and start again", "err", err)
				fatal <- err
				return
			}
		}
	}
}
