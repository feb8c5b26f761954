package status_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parleyhq/parley/status"
)

// S2: the rank order is exactly the one of SPEC.md.
func TestS2RankOrder(t *testing.T) {
	want := []status.Status{status.Scheduled, status.Pending, status.Validated, status.Cancelled,
		status.Failed, status.Sent, status.Undelivered, status.Delivered, status.Read}
	for i := 1; i < len(want); i++ {
		if want[i-1].Rank() >= want[i].Rank() {
			t.Fatalf("%s ranks %d, not below %s (%d)", want[i-1], want[i-1].Rank(), want[i], want[i].Rank())
		}
		if got := status.Merge(want[i-1], want[i]); got != want[i] {
			t.Errorf("Merge(%s, %s) = %s, want %s", want[i-1], want[i], got, want[i])
		}
		if got := status.Merge(want[i], want[i-1]); got != want[i] {
			t.Errorf("Merge(%s, %s) = %s, want %s", want[i], want[i-1], got, want[i])
		}
	}
	if got := status.All(); len(got) != 9 {
		t.Fatalf("All() has %d statuses, want 9", len(got))
	}
}

// S2: Merge is commutative, associative and idempotent over every status,
// including Unknown.
func TestS2MergeAlgebra(t *testing.T) {
	all := append([]status.Status{status.Unknown}, status.All()...)
	for _, a := range all {
		if status.Merge(a, a) != a {
			t.Errorf("Merge(%s, %s) not idempotent", a, a)
		}
		for _, b := range all {
			if status.Merge(a, b) != status.Merge(b, a) {
				t.Errorf("Merge(%s, %s) not commutative", a, b)
			}
			for _, c := range all {
				if status.Merge(status.Merge(a, b), c) != status.Merge(a, status.Merge(b, c)) {
					t.Errorf("Merge not associative on %s %s %s", a, b, c)
				}
			}
		}
	}
}

func permutations(n int, visit func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k == n {
			visit(p)
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			gen(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	gen(0)
}

// S2: folding every permutation of random status sequences (with
// duplicates) gives one answer, and Record.Apply agrees with Merge.
func TestS2EveryPermutationOneAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := status.All()
	for trial := 0; trial < 60; trial++ {
		n := 1 + rng.IntN(7)
		seq := make([]status.Status, n)
		for i := range seq {
			seq[i] = all[rng.IntN(len(all))]
		}
		want := status.Unknown
		first := true
		permutations(n, func(p []int) {
			got := status.Unknown
			var rec status.Record
			for _, i := range p {
				got = status.Merge(got, seq[i])
				if _, err := rec.Apply(status.Change{Status: seq[i]}); err != nil {
					t.Fatal(err)
				}
			}
			if rec.Current != got {
				t.Fatalf("Record.Apply gives %s, Merge gives %s", rec.Current, got)
			}
			if first {
				want, first = got, false
			} else if got != want {
				t.Fatalf("sequence %v permuted %v gives %s, want %s", seq, p, got, want)
			}
		})
	}
}

// S3: every distinct event is kept with time, raw status and error code;
// a lower status is kept in the history without lowering the status (S2);
// a duplicate is not recorded again.
func TestS3History(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var r status.Record
	apply := func(s status.Status, raw, code string, min int) bool {
		ok, err := r.Apply(status.Change{Status: s, At: t0.Add(time.Duration(min) * time.Minute), Raw: raw, ErrorCode: code})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !apply(status.Sent, "sent", "", 1) {
		t.Fatal("first change not accepted")
	}
	if !apply(status.Validated, "queued", "", 0) || r.Current != status.Sent {
		t.Fatalf("a late queued event: recorded, status stays sent; got %s", r.Current)
	}
	if apply(status.Sent, "sent", "", 1) {
		t.Fatal("a duplicate was accepted")
	}
	if !apply(status.Undelivered, "undelivered", "30007", 2) {
		t.Fatal("undelivered not accepted after sent")
	}
	if !apply(status.Delivered, "delivered", "", 3) {
		t.Fatal("delivered not accepted after undelivered")
	}
	if r.Current != status.Delivered || len(r.History) != 4 {
		t.Fatalf("record = %s with %d changes, want delivered with 4", r.Current, len(r.History))
	}
	if h := r.History[2]; h.Raw != "undelivered" || h.ErrorCode != "30007" || !h.At.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("history[2] = %+v", h)
	}
	if r.History[0].Raw != "queued" {
		t.Fatalf("history[0] = %+v, want the queued event first (event-time order)", r.History[0])
	}
	if _, err := r.Apply(status.Change{Status: 42}); !errors.Is(err, status.ErrUnknown) {
		t.Fatalf("invalid status: err = %v, want ErrUnknown", err)
	}
	c := r.Clone()
	c.History[0].Raw = "changed"
	if r.History[0].Raw == "changed" {
		t.Fatal("Clone shares its history")
	}
}

// S1: text marshalling shows the lower-case name and rejects unknown names.
func TestS1TextMarshalling(t *testing.T) {
	for _, s := range status.All() {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `"`+s.String()+`"` {
			t.Errorf("json of %s = %s", s, b)
		}
		var back status.Status
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("round trip of %s = %s, %v", s, back, err)
		}
	}
	var s status.Status
	if err := json.Unmarshal([]byte(`"bogus"`), &s); !errors.Is(err, status.ErrUnknown) {
		t.Errorf("unknown name: err = %v", err)
	}
	if _, err := json.Marshal(status.Unknown); err == nil {
		t.Error("marshalling Unknown succeeded")
	}
	if got, err := status.Parse(" Canceled "); err != nil || got != status.Cancelled {
		t.Errorf("Parse(canceled) = %s, %v", got, err)
	}
	if status.Status(200).String() != "status(200)" {
		t.Errorf("String of out-of-range = %q", status.Status(200).String())
	}
}

// S4: every Twilio Messaging status value maps, inbound ones give ErrInbound.
func TestS4Twilio(t *testing.T) {
	cases := map[string]status.Status{
		"accepted": status.Validated, "scheduled": status.Scheduled, "queued": status.Validated,
		"sending": status.Validated, "sent": status.Sent, "delivered": status.Delivered,
		"undelivered": status.Undelivered, "failed": status.Failed, "read": status.Read,
		"canceled": status.Cancelled, "partially_delivered": status.Sent, "DELIVERED": status.Delivered,
	}
	for in, want := range cases {
		got, err := status.ParseTwilio(in)
		if err != nil || got != want {
			t.Errorf("ParseTwilio(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"receiving", "received"} {
		if _, err := status.ParseTwilio(in); !errors.Is(err, status.ErrInbound) {
			t.Errorf("ParseTwilio(%q) err = %v, want ErrInbound", in, err)
		}
	}
	if _, err := status.ParseTwilio("exploded"); !errors.Is(err, status.ErrUnknown) {
		t.Errorf("unknown twilio value: err = %v", err)
	}
}

// S4: WhatsApp Cloud API statuses.
func TestS4WhatsApp(t *testing.T) {
	cases := map[string]status.Status{"sent": status.Sent, "delivered": status.Delivered,
		"read": status.Read, "failed": status.Failed, "Read": status.Read}
	for in, want := range cases {
		got, err := status.ParseWhatsApp(in)
		if err != nil || got != want {
			t.Errorf("ParseWhatsApp(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"deleted", "warning"} {
		if _, err := status.ParseWhatsApp(in); !errors.Is(err, status.ErrNotDeliveryStatus) {
			t.Errorf("ParseWhatsApp(%q) err = %v", in, err)
		}
	}
	if _, err := status.ParseWhatsApp(""); !errors.Is(err, status.ErrUnknown) {
		t.Errorf("empty whatsapp value: err = %v", err)
	}
}

// S4: email events.
func TestS4Email(t *testing.T) {
	cases := map[string]status.Status{"processed": status.Validated, "delivered": status.Delivered,
		"bounce": status.Undelivered, "dropped": status.Failed, "open": status.Read, "hard-bounce": status.Undelivered}
	for in, want := range cases {
		got, err := status.ParseEmailEvent(in)
		if err != nil || got != want {
			t.Errorf("ParseEmailEvent(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := status.ParseEmailEvent("click"); !errors.Is(err, status.ErrNotDeliveryStatus) {
		t.Errorf("click: err = %v", err)
	}
}

// S5: counts per status over many deliveries.
func TestS5Counts(t *testing.T) {
	c := status.CountOf(status.Sent, status.Delivered, status.Delivered, status.Failed, status.Unknown)
	if c[status.Delivered] != 2 || c[status.Sent] != 1 || c[status.Failed] != 1 || c[status.Unknown] != 1 || c.Total() != 5 {
		t.Fatalf("counts = %v", c)
	}
	var d status.Counts
	d.Add(status.Read)
	d.Add(status.Status(99))
	c.Merge(d)
	if c[status.Read] != 1 || c[status.Unknown] != 2 || c.Total() != 7 {
		t.Fatalf("merged counts = %v", c)
	}
	if got := status.CountOf(status.Sent, status.Delivered).String(); got != "sent=1 delivered=1" {
		t.Fatalf("String = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"sent", "DELIVERED", "canceled", "received", "deleted", "", "\xff", "hard-bounce"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, parse := range []func(string) (status.Status, error){status.Parse, status.ParseTwilio, status.ParseWhatsApp, status.ParseEmailEvent} {
			s, err := parse(in)
			if err == nil && !s.Valid() {
				t.Fatalf("parse(%q) = %s without error", in, s)
			}
			if err != nil && s != status.Unknown {
				t.Fatalf("parse(%q) = %s with error %v", in, s, err)
			}
		}
	})
}

func BenchmarkMerge(b *testing.B) {
	all := status.All()
	s := status.Unknown
	for i := 0; b.Loop(); i++ {
		s = status.Merge(s, all[i%len(all)])
	}
	_ = s
}
