package status_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parleyhq/parley/status"
)

// S2, S3: a record whose status ranks at least a change's is left as it is
// by Apply exactly when the first change of its history that reports the
// change's event (SameEvent) absorbs it (Absorbs): the rule a store that
// keeps histories in its own form uses to skip a duplicate report. Checked
// on random histories and reports drawn from a few statuses, raw values,
// error texts and times, both timings.
func TestAbsorbsAgreesWithApply_S2_S3(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	statuses := []status.Status{status.Sent, status.Delivered, status.Failed}
	draw := func(rng *rand.Rand) status.Change {
		return status.Change{
			Status:       statuses[rng.IntN(len(statuses))],
			At:           t0.Add(time.Duration(rng.IntN(3)) * time.Second),
			Raw:          []string{"sent", "delivered", ""}[rng.IntN(3)],
			ErrorCode:    []string{"", "30003"}[rng.IntN(2)],
			ErrorMessage: []string{"", "unreachable", "unreachable handset"}[rng.IntN(3)],
			Arrived:      rng.IntN(2) == 0,
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	skipped, merged := 0, 0
	for range 20000 {
		var r status.Record
		for range rng.IntN(5) {
			if _, err := r.Apply(draw(rng)); err != nil {
				t.Fatal(err)
			}
		}
		c := draw(rng)
		if c.Status.Rank() > r.Current.Rank() {
			continue // Apply raises the status: not the case the rule is for
		}
		absorbed := false
		for _, h := range r.History {
			if h.SameEvent(c) {
				absorbed = h.Absorbs(c)
				break
			}
		}
		before := status.Record{Current: r.Current, History: append([]status.Change(nil), r.History...)}
		changed, err := r.Apply(c)
		if err != nil {
			t.Fatal(err)
		}
		if changed == absorbed {
			t.Fatalf("history %+v, report %+v: Apply changed = %v, Absorbs = %v", before.History, c, changed, absorbed)
		}
		if absorbed {
			skipped++
		} else {
			merged++
		}
	}
	if skipped == 0 || merged == 0 {
		t.Fatalf("the draws never exercised both cases: %d absorbed, %d merged", skipped, merged)
	}
}

// S3: one event is one change whatever its arrival; a different instant,
// status, raw value, error code or timing is another event; an earlier
// arrival or a later-ordering error message is not absorbed.
func TestSameEventAndAbsorbs_S3(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	h := status.Change{Status: status.Failed, At: t0, Raw: "failed", ErrorCode: "30003", ErrorMessage: "unreachable"}
	same := h
	same.At = t0.In(time.FixedZone("CET", 3600)) // one instant, another zone
	if !h.SameEvent(same) || !h.Absorbs(same) {
		t.Fatal("S3: the same event in another zone is not absorbed")
	}
	for name, c := range map[string]status.Change{
		"another instant": {Status: status.Failed, At: t0.Add(time.Second), Raw: "failed", ErrorCode: "30003"},
		"another status":  {Status: status.Undelivered, At: t0, Raw: "failed", ErrorCode: "30003"},
		"another raw":     {Status: status.Failed, At: t0, Raw: "undelivered", ErrorCode: "30003"},
		"another code":    {Status: status.Failed, At: t0, Raw: "failed", ErrorCode: "30005"},
		"arrival-timed":   {Status: status.Failed, At: t0, Raw: "failed", ErrorCode: "30003", Arrived: true},
	} {
		if h.SameEvent(c) || h.Absorbs(c) {
			t.Errorf("S3: %s is taken for the same event", name)
		}
	}
	longer := h
	longer.ErrorMessage = "unreachable handset"
	if !h.SameEvent(longer) || h.Absorbs(longer) {
		t.Error("S3: a longer error message of the same event is absorbed")
	}
	arrived := status.Change{Status: status.Sent, At: t0, Raw: "sent", Arrived: true}
	earlier, later := arrived, arrived
	earlier.At, later.At = t0.Add(-time.Second), t0.Add(time.Second)
	if !arrived.SameEvent(earlier) || arrived.Absorbs(earlier) {
		t.Error("S3: an earlier arrival of the same event is absorbed")
	}
	if !arrived.SameEvent(later) || !arrived.Absorbs(later) {
		t.Error("S3: a later arrival of the same event is not absorbed")
	}
}
