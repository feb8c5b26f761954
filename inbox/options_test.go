package inbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
)

// T2, T17: NoLimit is the one "no limit" of window options; any other
// negative window is invalid, and so is a StatusWait without end.
func TestNoLimitWindows_T2_T17(t *testing.T) {
	for name, opts := range map[string]inbox.Options{
		"negative resume window":     {ResumeWindow: -time.Hour},
		"negative visibility window": {VisibilityWindow: -time.Nanosecond},
		"status wait without end":    {StatusWait: inbox.NoLimit},
	} {
		if _, err := inbox.New(memstore.New(), opts); !errors.Is(err, inbox.ErrInvalidArgument) {
			t.Errorf("%s: New = %v, want ErrInvalidArgument", name, err)
		}
	}
	ctx := context.Background()
	clk := &clock{t: t0}
	in, err := inbox.New(memstore.New(), inbox.Options{Now: clk.Now, ResumeWindow: inbox.NoLimit, VisibilityWindow: inbox.NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	th, err := in.Start(ctx, contactT("ana"))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * 365 * 24 * time.Hour)
	if again, err := in.Start(ctx, contactT("ana")); err != nil || again.ID != th.ID {
		t.Fatalf("T2: ResumeWindow NoLimit started %v (%v), want %s resumed", again.ID, err, th.ID)
	}
	page, err := in.Threads(ctx, inbox.ThreadQuery{})
	if err != nil || len(page.Threads) != 1 {
		t.Fatalf("T17: VisibilityWindow NoLimit lists %d threads (%v), want the 10-year-old one", len(page.Threads), err)
	}
}
