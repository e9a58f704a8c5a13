package engine

import (
	"context"
	"errors"
	"time"

	"github.com/tmci/tmci/ledger"
	"github.com/tmci/tmci/report"
	"github.com/tmci/tmci/statestore"
)

// recordLedger records in the run's ledger, for apply and destroy, every
// stack that succeeded at the run's revision; a failed, skipped or
// interrupted stack keeps its older entry, so the next --changed run
// starts from before its change. A succeeded stack of Forget (a deleted
// stack that destroy --deleted destroyed), or any stack destroyed in an
// ephemeral environment, is removed instead; an ephemeral environment
// whose ledger is then empty loses the ledger too. A ledger that cannot be written fails the run
// (exit 1) and says why in the report: the next run would otherwise start
// from a revision that does not match what is deployed.
//
// It runs even after an interrupt, with a context of its own bounded by
// the runner's grace period, so that the stacks that finished are not
// applied again for nothing.
func (r *Run) recordLedger(ctx context.Context, rep *report.Report) {
	if r.Ledger == nil || r.Revision == "" || (r.Verb != Apply && r.Verb != Destroy) {
		return
	}
	verb := ledger.Applied
	if r.Verb == Destroy {
		verb = ledger.Destroyed
	}
	now := time.Now().UTC()
	updates := ledger.Entries{}
	lr := &report.LedgerReport{Revision: r.Revision, Recorded: []string{}}
	forgettable := map[string]bool{}
	for _, p := range r.Forget {
		forgettable[p] = true
	}
	var forget []string
	for _, s := range rep.Stacks {
		switch {
		case s.Status != report.StatusSucceeded:
		case forgettable[s.Path], r.Verb == Destroy && r.Ephemeral():
			forget = append(forget, s.Path)
		default:
			updates[s.Path] = ledger.Entry{Revision: r.Revision, Time: now, Verb: verb}
			lr.Recorded = append(lr.Recorded, s.Path)
		}
	}
	if len(updates) == 0 && len(forget) == 0 {
		return
	}
	lr.Forgotten = forget
	rep.Ledger = lr
	if ctx.Err() != nil {
		grace := r.Runner.Grace
		if grace <= 0 {
			grace = time.Minute
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), grace)
		defer cancel()
	}
	left, err := r.Ledger.Record(ctx, updates, forget)
	if err == nil && len(left) == 0 && r.Verb == Destroy && r.Ephemeral() {
		err = r.removeLedger(ctx)
		lr.Removed = err == nil
	}
	if err != nil {
		lr.Error = err.Error()
		rep.ExitCode = ExitFailure
	}
}

// removeLedger removes the ledger of an ephemeral environment whose
// stacks are all destroyed: its resource, then its emptied state object.
func (r *Run) removeLedger(ctx context.Context) error {
	if err := r.Ledger.Remove(ctx); err != nil {
		return err
	}
	_, err := statestore.RemoveEmpty(ctx, r.Ledger.Config(), r.Ledger.Dir(), r.Getenv)
	if errors.Is(err, statestore.ErrUnsupported) {
		return nil // emptied, and said in the docs: tmci reaches local, pg and http
	}
	return err
}
