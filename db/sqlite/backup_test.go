package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"shopauth/auth"
	"shopauth/db/sqlite"
)

// bigDB returns a database of a few MB, so that a backup takes long enough to be watched.
func bigDB(t *testing.T) *sqlite.DB {
	t.Helper()
	d := openDB(t)
	pad := []byte(strings.Repeat("x", 4000))
	err := d.Update(context.Background(), func(tx auth.Tx) error {
		for i := range 2000 {
			if err := tx.SetSetting("pad-"+string(rune('a'+i%26))+strings.Repeat("y", i%50)+string(rune(i)), pad); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// watch polls dir until stop is closed and calls seen with every entry it finds.
func watch(dir string, stop <-chan struct{}, seen func(os.DirEntry)) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				seen(e)
			}
		}
	}()
	return &wg
}

// TestBackupNeverReadableByOthers: with the usual umask, no file the backup
// writes is readable by group or others at any moment, and the copy takes its name complete.
func TestBackupNeverReadableByOthers(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	d := bigDB(t)
	dir := t.TempDir()
	stop := make(chan struct{})
	var mu sync.Mutex
	modes := map[string]os.FileMode{}
	wg := watch(dir, stop, func(e os.DirEntry) {
		if info, err := e.Info(); err == nil {
			mu.Lock()
			modes[e.Name()] |= info.Mode().Perm()
			mu.Unlock()
		}
	})
	err := d.Backup(context.Background(), filepath.Join(dir, "copy.db"))
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for name, perm := range modes {
		if perm&0o077 != 0 {
			t.Errorf("%s was readable by others while the backup ran: %v", name, perm)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "copy.db" {
		t.Errorf("folder after the backup: %v, want only copy.db", entries)
	}
}

// TestFailedBackupLeavesNoFile: a backup cut off half way leaves nothing behind.
func TestFailedBackupLeavesNoFile(t *testing.T) {
	d := bigDB(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	// Cancel as soon as the copy has begun to be written.
	wg := watch(dir, stop, func(os.DirEntry) { cancel() })
	err := d.Backup(ctx, filepath.Join(dir, "copy.db"))
	close(stop)
	wg.Wait()
	cancel()
	if err == nil {
		t.Skip("the backup finished before it could be cut off")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed backup left %v", entries)
	}
}
