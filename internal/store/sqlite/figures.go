package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/yearfigures"
)

var (
	_ store.FigureKeeper     = (*Store)(nil)
	_ store.FigurePartReader = (*Store)(nil)
)

// The yearly figures are kept in the data file's tables of package yearfigures
// (migrations 7 and 8), marked in the transaction of each write or approval.

// KeptFigures reads one set of kept figures in one read transaction: the set's stamp
// and mark sequence, the years marked since and, when the stamp is the one asked for,
// every kept row.
func (s *Store) KeptFigures(ctx context.Context, set store.FigureSet, stamp string) (store.KeptFigures, error) {
	if err := s.enter("read kept figures"); err != nil {
		return store.KeptFigures{}, err
	}
	defer s.mu.RUnlock()
	out, err := s.keptFigures(ctx, set, stamp, nil, nil)
	if err != nil {
		return store.KeptFigures{}, fmt.Errorf("sqlite: read kept figures of %s: %w", set.Indicator, err)
	}
	return out, nil
}

// KeptFiguresOf is KeptFigures reading only the kept rows of agencies, of years when
// years is not empty: each is a seek on the figures table's key.
func (s *Store) KeptFiguresOf(ctx context.Context, set store.FigureSet, stamp string, agencies []string, years []int) (store.KeptFigures, error) {
	if err := s.enter("read kept figures"); err != nil {
		return store.KeptFigures{}, err
	}
	defer s.mu.RUnlock()
	if len(agencies) == 0 {
		return store.KeptFigures{}, errors.New("sqlite: read kept figures of no agency")
	}
	out, err := s.keptFigures(ctx, set, stamp, agencies, years)
	if err != nil {
		return store.KeptFigures{}, fmt.Errorf("sqlite: read kept figures of %s: %w", set.Indicator, err)
	}
	return out, nil
}

func (s *Store) keptFigures(ctx context.Context, set store.FigureSet, stamp string, agencies []string, years []int) (store.KeptFigures, error) {
	tx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.KeptFigures{}, err
	}
	defer tx.Rollback()
	return yearfigures.Read(ctx, tx, set, stamp, agencies, years)
}

// KeepFigures stores recomputed figures in one write transaction, unless the set
// changed since u.Base was read (then another reader stored figures at least as new,
// and u is dropped).
func (s *Store) KeepFigures(ctx context.Context, set store.FigureSet, u store.FigureUpdate) (bool, error) {
	if err := s.enter("keep figures"); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	stored, err := s.keepFigures(ctx, set, u)
	if err != nil {
		return false, fmt.Errorf("sqlite: keep figures of %s: %w", set.Indicator, err)
	}
	return stored, nil
}

func (s *Store) keepFigures(ctx context.Context, set store.FigureSet, u store.FigureUpdate) (bool, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
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
