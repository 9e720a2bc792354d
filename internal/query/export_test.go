package query

import (
	"context"
	"fmt"

	"github.com/g-oc/goc/indicators"

	"github.com/g-oc/goc/internal/store"
)

// KeptAndRecomputed reads the figures the store keeps for code at level in s's view
// and recomputes them from the whole history, for tests comparing the two. valid and
// stale say whether the kept set was computed under s's registry and catalogue and
// which of its years were marked since.
func KeptAndRecomputed(ctx context.Context, s *Service, code string, level string) (kept, recomputed []store.YearFigures, valid bool, stale []int, err error) {
	ind, ok := s.catalogue.Get(code)
	if !ok {
		return nil, nil, false, nil, fmt.Errorf("no indicator %s", code)
	}
	keeper, ok := s.store.(store.FigureKeeper)
	if !ok {
		return nil, nil, false, nil, fmt.Errorf("the store keeps no figures")
	}
	lvl := indicators.Level(level)
	k, err := keeper.KeptFigures(ctx, s.figureSet(ind, lvl), s.cache.stampOf(ind, s.registry))
	if err != nil {
		return nil, nil, false, nil, err
	}
	recomputed, err = s.computeYears(ctx, ind, lvl)
	return k.Years, recomputed, k.Valid, k.Stale, err
}
