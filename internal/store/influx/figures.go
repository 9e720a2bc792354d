package influx

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/yearfigures"
)

var (
	_ store.FigureKeeper     = (*Store)(nil)
	_ store.FigurePartReader = (*Store)(nil)
)

// The spool keeps every agency's yearly figures as the SQLite store keeps them in its
// data file (package yearfigures): each revision spooled, approval and batch InfluxDB
// refused marks its (indicator, year) pairs in the spool transaction that makes it,
// so a crash loses both or neither, and the query layer recomputes only the years
// marked since a set was kept. A read after a restart then reads its figures from the
// spool, not the history from InfluxDB.
//
// Two more things can change what a read sees without a mark here:
//   - A read answered from the ledger while InfluxDB was away (see observations): a
//     set computed while one was is not kept. KeptFigures hands the count of such
//     reads to KeepFigures in its Token, and KeepFigures stores nothing when it moved.
//   - With a shared ledger, other replicas' revisions and reviews, which never pass
//     through this spool. A set is then kept with the shared ledger's version (in its
//     stored stamp) and is valid only while that version stands: any replica's write,
//     review or send makes every kept set be recomputed whole, so a replica keeps
//     figures across its restarts while nothing changes, not across writes.
//
// The marks describe the buckets named in meta figures_of (adoptFigures): a spool
// pointed at other buckets forgets what it kept. Like the figures version, they are
// exact while this process is the only writer of the bucket (or every writer shares
// the ledger).

// adoptFigures, at Open, starts keeping figures for the spool's buckets: a spool that
// kept none for them (new, older than kept figures, or used with other buckets) drops
// whatever it kept, so every set it keeps from now on was computed while each write
// was marked.
func (s *Store) adoptFigures(ctx context.Context) error {
	key := s.ledgerKey()
	tx, err := s.sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("adopt kept figures: %w", err)
	}
	defer tx.Rollback()
	var of string
	err = tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'figures_of'").Scan(&of)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read the spool's kept figures state: %w", err)
	}
	if of == key {
		return nil
	}
	if err := yearfigures.Forget(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO meta (key, value) VALUES ('figures_of', ?)", key); err != nil {
		return fmt.Errorf("record the figures kept: %w", err)
	}
	return tx.Commit()
}

// KeptFigures reads one set of kept figures from the spool (see above).
func (s *Store) KeptFigures(ctx context.Context, set store.FigureSet, stamp string) (store.KeptFigures, error) {
	if err := s.enter("read kept figures"); err != nil {
		return store.KeptFigures{}, err
	}
	defer s.mu.RUnlock()
	out, err := s.keptFigures(ctx, set, stamp, nil, nil)
	if err != nil {
		return store.KeptFigures{}, fmt.Errorf("influx: read kept figures of %s: %w", set.Indicator, err)
	}
	return out, nil
}

// KeptFiguresOf is KeptFigures reading only the kept rows of agencies, of years when
// years is not empty.
func (s *Store) KeptFiguresOf(ctx context.Context, set store.FigureSet, stamp string, agencies []string, years []int) (store.KeptFigures, error) {
	if err := s.enter("read kept figures"); err != nil {
		return store.KeptFigures{}, err
	}
	defer s.mu.RUnlock()
	if len(agencies) == 0 {
		return store.KeptFigures{}, errors.New("influx: read kept figures of no agency")
	}
	out, err := s.keptFigures(ctx, set, stamp, agencies, years)
	if err != nil {
		return store.KeptFigures{}, fmt.Errorf("influx: read kept figures of %s: %w", set.Indicator, err)
	}
	return out, nil
}

func (s *Store) keptFigures(ctx context.Context, set store.FigureSet, stamp string, agencies []string, years []int) (store.KeptFigures, error) {
	// Both read before the marks and the data are: a read from the ledger or another
	// replica's write after this point makes the set's update be dropped or its stamp
	// be out of date, never the reverse.
	degraded := s.figuresDegraded.Load()
	shared, err := s.sharedVersion(ctx)
	if err != nil {
		return store.KeptFigures{}, err
	}
	tx, err := s.sp.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.KeptFigures{}, err
	}
	defer tx.Rollback()
	out, err := yearfigures.Read(ctx, tx, set, withShared(stamp, shared), agencies, years)
	if err != nil {
		return store.KeptFigures{}, err
	}
	// The update compares the stamp as stored; the caller sees the query layer's.
	out.Token = strings.Join([]string{strconv.FormatInt(degraded, 10), shared, out.Stored}, sharedSep)
	out.Stored, _, _ = strings.Cut(out.Stored, sharedSep)
	return out, nil
}

// sharedVersion is the shared ledger's version, "" without one.
func (s *Store) sharedVersion(ctx context.Context) (string, error) {
	if s.opt.Ledger == nil {
		return "", nil
	}
	v, err := s.opt.Ledger.Version(ctx, false)
	if err != nil {
		return "", fmt.Errorf("shared ledger version: %w", err)
	}
	return v, nil
}

// withShared is the stamp a set is kept under: the query layer's, and with a shared
// ledger the ledger's version the set was computed at, after sharedSep.
func withShared(stamp, shared string) string {
	if shared == "" {
		return stamp
	}
	return stamp + sharedSep + shared
}

// sharedSep separates the parts of a kept stamp and of a token; no stamp (a hash) or
// version holds it.
const sharedSep = "\x1f"

// FigureMarksExact reports whether the years KeptFigures marks stale are exactly those
// written since (true), or, with a shared ledger, any change of any replica makes
// every kept set invalid (false): a replica keeps figures across its restarts while
// nothing changes, and recomputes them whole after a change.
func (s *Store) FigureMarksExact() bool { return s.opt.Ledger == nil }

// KeepFigures stores recomputed figures in the spool, unless the set changed since
// u.Base was read (another reader stored first) or a read since was answered from the
// ledger without InfluxDB: then nothing is stored, and stored is false. A forced
// update (`goc rebuild`) fails instead of storing nothing.
func (s *Store) KeepFigures(ctx context.Context, set store.FigureSet, u store.FigureUpdate) (bool, error) {
	if err := s.enter("keep figures"); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	stored, err := s.keepFigures(ctx, set, u)
	if err != nil {
		return false, fmt.Errorf("influx: keep figures of %s: %w", set.Indicator, err)
	}
	return stored, nil
}

func (s *Store) keepFigures(ctx context.Context, set store.FigureSet, u store.FigureUpdate) (bool, error) {
	// A base that KeptFigures did not read (none: a forced update of figures computed
	// otherwise) is taken at its word, as the SQLite store takes every update.
	shared := ""
	if u.Base.Token == "" {
		v, err := s.sharedVersion(ctx)
		if err != nil {
			return false, err
		}
		shared = v
	} else {
		parts := strings.SplitN(u.Base.Token, sharedSep, 3)
		if len(parts) != 3 {
			return false, fmt.Errorf("the update's base has a token %q this store did not give", u.Base.Token)
		}
		degraded, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return false, fmt.Errorf("the update's base has a token %q this store did not give", u.Base.Token)
		}
		if s.figuresDegraded.Load() != degraded {
			if u.Force {
				return false, errors.New("InfluxDB did not answer every read: the figures came from the spool's ledger and are not kept; try again when it answers")
			}
			return false, nil
		}
		shared, u.Base.Stored = parts[1], parts[2]
	}
	u.Stamp = withShared(u.Stamp, shared)
	tx, err := s.sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	stored, err := yearfigures.Keep(ctx, tx, set, u)
	if err != nil || !stored {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}
