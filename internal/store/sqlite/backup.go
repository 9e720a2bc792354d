package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/g-oc/goc/internal/store"
)

// Backup writes a consistent snapshot of the database to dest with VACUUM INTO, which
// reads one transaction's view while writers go on (WAL), and then checks the copy
// before giving it its name: a file at dest is always a whole, checked database. dest
// must not exist; nothing is overwritten.
//
// It uses a connection of its own: the readers are query_only, which SQLite extends to
// VACUUM INTO, and the writer must stay free for submissions during a long copy.
func (s *Store) Backup(ctx context.Context, dest string, progress func(done, total int64)) (store.BackupInfo, error) {
	if err := s.enter("backup"); err != nil {
		return store.BackupInfo{}, err
	}
	defer s.mu.RUnlock()
	fail := func(err error) (store.BackupInfo, error) {
		return store.BackupInfo{}, fmt.Errorf("sqlite: backup to %s: %w", dest, err)
	}
	if dest == "" {
		return fail(errors.New("empty file name"))
	}
	if same, err := sameFile(s.path, dest); err != nil || same {
		if err == nil {
			err = errors.New("that is the database itself")
		}
		return fail(err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fail(fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	// An empty file made here is the one thing VACUUM INTO may write into besides a new
	// name; a unique name in dest's folder keeps the final rename on one file system.
	tmpFile, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return fail(err)
	}
	tmp := tmpFile.Name()
	tmpFile.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()

	src, err := sql.Open("sqlite", s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	var pages, freePages, pageSize int64
	if err := src.QueryRowContext(ctx, "SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)").Scan(&pages, &freePages, &pageSize); err != nil {
		return fail(fmt.Errorf("size: %w", err))
	}
	total := (pages - freePages) * pageSize

	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if progress == nil {
			return
		}
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if fi, err := os.Stat(tmp); err == nil {
					progress(min(fi.Size(), total), total)
				}
			}
		}
	}()
	_, err = src.ExecContext(ctx, "VACUUM INTO ?", tmp)
	close(stop)
	<-watched
	if err != nil {
		return fail(fmt.Errorf("copy: %w", err))
	}
	info, err := checkCopy(ctx, tmp)
	if err != nil {
		return fail(err)
	}
	if err := syncFile(tmp); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fail(err)
	}
	done = true
	if err := syncFile(filepath.Dir(dest)); err != nil {
		return fail(err)
	}
	if progress != nil {
		progress(total, total)
	}
	info.Path = dest
	return info, nil
}

// checkCopy opens the copy read-only, runs SQLite's integrity check and counts what it
// holds, so the operator is told what the backup contains rather than what was asked.
func checkCopy(ctx context.Context, path string) (store.BackupInfo, error) {
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		return store.BackupInfo{}, fmt.Errorf("open the copy: %w", err)
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check(1)").Scan(&verdict); err != nil {
		return store.BackupInfo{}, fmt.Errorf("check the copy: %w", err)
	}
	if verdict != "ok" {
		return store.BackupInfo{}, fmt.Errorf("the copy failed SQLite's integrity check: %s", verdict)
	}
	var info store.BackupInfo
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM observations), (SELECT count(*) FROM probes)").Scan(&info.Observations, &info.ProbeResults); err != nil {
		return store.BackupInfo{}, fmt.Errorf("count the copy: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return store.BackupInfo{}, err
	}
	info.Bytes = fi.Size()
	return info, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}
