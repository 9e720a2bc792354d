package submission

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/intake"
)

// Loader stores one large file all-or-nothing: Write any number of times, then Commit
// (which says how many observations became new revisions) or Rollback, once. The
// embedded store implements it as one transaction.
type Loader interface {
	Write(ctx context.Context, obs []indicators.Observation) error
	Commit() (created int, err error)
	Rollback() error
}

// Writer is a store's ordinary batch write, used when the store has no Loader.
type Writer interface {
	WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error)
}

// DefaultChunk is how many observations an import hands the store at a time.
const DefaultChunk = 20_000

// ImportOptions say what to import and where.
type ImportOptions struct {
	// Rules check every row; Rules.Emit is Import's own and is overwritten.
	Rules intake.Rules
	// Read reads the file into an intake.Handler. Without Begin it is called twice.
	Read func(h intake.Handler) error
	// Begin starts an all-or-nothing load. When nil, the file is checked in full first
	// and then written through Writer in chunks, each its own transaction.
	Begin  func(ctx context.Context) (Loader, error)
	Writer Writer
	// Chunk is how many observations go to the store at a time; DefaultChunk when 0.
	Chunk int
	// Source, Submitter, ReceivedAt and Batch mark every stored observation. Batch is
	// generated when empty; ReceivedAt is the store's clock when zero.
	Source     indicators.Source
	Submitter  string
	ReceivedAt time.Time
	Batch      string
	// Progress, when set, is told how many rows have been read so far.
	Progress func(rows int)
	// DryRun checks the file and stores nothing.
	DryRun bool
	// Storing, when set, is called once the whole file is read and good, before the
	// store does its last and longest step (merging a bulk load).
	Storing func()
}

// ImportResult is what an import found and stored.
type ImportResult struct {
	intake.Result
	// Created counts new revisions; Unchanged the values already stored as they are.
	Created, Unchanged int
	Batch              string
}

// Import streams a file through the Validator into the store. Reading and writing run
// side by side, and only a chunk or two of observations is held at a time, so a
// million-row file imports in bounded memory. Nothing is stored unless every row is
// good: with a Loader the whole file is one load that is rolled back on the first
// problem; without one the file is checked in full before the first write.
//
// Problems in the file come back in the result (Result.OK is false) with a nil error;
// the error is for files that cannot be read at all (*FileError, *ForbiddenError) and for
// store failures.
func Import(ctx context.Context, o ImportOptions) (ImportResult, error) {
	if o.Chunk <= 0 {
		o.Chunk = DefaultChunk
	}
	if o.Batch == "" {
		o.Batch = newBatchID()
	}
	if o.Source == "" {
		o.Source = indicators.FromSubmission
	}
	res := ImportResult{Batch: o.Batch}
	if o.DryRun || o.Begin == nil {
		checked, err := o.pass(ctx, nil)
		res.Result = checked
		if err != nil || !checked.OK() || o.DryRun {
			return res, err
		}
		return o.writeInChunks(ctx, res)
	}
	loader, err := o.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("begin import: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []indicators.Observation, 1)
	type readDone struct {
		res intake.Result
		err error
	}
	done := make(chan readDone, 1)
	go func() {
		r, err := o.pass(ctx, chunks)
		close(chunks)
		done <- readDone{r, err}
	}()
	var writeErr error
	for c := range chunks {
		if writeErr != nil {
			continue // drain so the reader can finish
		}
		if err := loader.Write(ctx, c); err != nil {
			writeErr = fmt.Errorf("store: %w", err)
			cancel()
			continue
		}
	}
	rd := <-done
	res.Result = rd.res
	switch {
	case writeErr != nil:
		return res, errors.Join(writeErr, loader.Rollback())
	case rd.err != nil:
		return res, errors.Join(rd.err, loader.Rollback())
	case !rd.res.OK():
		if err := loader.Rollback(); err != nil {
			return res, fmt.Errorf("roll back import: %w", err)
		}
		return res, nil
	}
	if o.Storing != nil {
		o.Storing()
	}
	created, err := loader.Commit()
	if err != nil {
		return res, fmt.Errorf("commit import: %w", err)
	}
	res.Created, res.Unchanged = created, rd.res.Good-created
	return res, nil
}

// pass reads the file once through a fresh Validator. With out set, it sends good rows
// there in chunks for as long as the file has no problem.
func (o *ImportOptions) pass(ctx context.Context, out chan<- []indicators.Observation) (intake.Result, error) {
	rules := o.Rules
	var buf []indicators.Observation
	var nums []float64
	rows := 0
	var v *intake.Validator
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		select {
		case out <- buf:
		case <-ctx.Done():
			return ctx.Err()
		}
		buf, nums = nil, nil
		return nil
	}
	rules.Emit = func(ob indicators.Observation, _ intake.Place) {
		if out == nil || v.Total() > 0 {
			return // a file with problems stores nothing: stop feeding the store
		}
		if buf == nil {
			buf = make([]indicators.Observation, 0, o.Chunk)
			nums = make([]float64, 0, 2*o.Chunk)
		}
		// Numerators and denominators share one slab per chunk instead of two small
		// allocations per row.
		if ob.Numerator != nil {
			nums = append(nums, *ob.Numerator)
			ob.Numerator = &nums[len(nums)-1]
		}
		if ob.Denominator != nil {
			nums = append(nums, *ob.Denominator)
			ob.Denominator = &nums[len(nums)-1]
		}
		ob.Source, ob.Submitter, ob.ReceivedAt, ob.Batch = o.Source, o.Submitter, o.ReceivedAt, o.Batch
		buf = append(buf, ob)
	}
	v = intake.NewValidator(rules)
	h := &importHandler{v: v, ctx: ctx, onRow: func() error {
		rows++
		if o.Progress != nil && rows%4096 == 0 {
			o.Progress(rows)
		}
		if out != nil && len(buf) >= o.Chunk {
			return flush()
		}
		return nil
	}}
	err := o.Read(h)
	if o.Progress != nil {
		o.Progress(rows)
	}
	if err == nil && out != nil && v.Total() == 0 {
		err = flush()
	}
	return v.Finish(), err
}

// writeInChunks is the second pass for stores without a Loader.
func (o *ImportOptions) writeInChunks(ctx context.Context, res ImportResult) (ImportResult, error) {
	chunks := make(chan []indicators.Observation, 1)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, err := o.pass(ctx, chunks)
		close(chunks)
		errc <- err
	}()
	var writeErr error
	for c := range chunks {
		if writeErr != nil {
			continue
		}
		stored, err := o.Writer.WriteObservations(ctx, c)
		if err != nil {
			writeErr = fmt.Errorf("store (%d values already stored; importing the same file again is safe): %w", res.Created, err)
			cancel()
			continue
		}
		for _, s := range stored {
			if s.Batch == o.Batch {
				res.Created++
			} else {
				res.Unchanged++
			}
		}
	}
	if err := <-errc; writeErr == nil && err != nil {
		writeErr = err
	}
	return res, writeErr
}

// importHandler feeds a Validator and lets Import flush chunks between rows.
type importHandler struct {
	v     *intake.Validator
	ctx   context.Context
	onRow func() error
}

func (h *importHandler) Header(hd intake.Header) error { return h.v.Header(hd) }
func (h *importHandler) Problem(p intake.Problem)      { h.v.Problem(p) }
func (h *importHandler) Row(r intake.Row) error {
	if err := h.ctx.Err(); err != nil {
		return err
	}
	if err := h.v.Row(r); err != nil {
		return err
	}
	return h.onRow()
}

// newBatchID returns a random UUID (version 4) naming one submission or import.
func newBatchID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewBatchID returns a fresh batch id for one submission.
func NewBatchID() string { return newBatchID() }
