package status

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change is one status change of a delivery, as reported by a provider or
// decided by the sender (S3).
type Change struct {
	// Status is the status the change reports.
	Status Status `json:"status"`
	// At is when the change happened (the provider's time when it gives one,
	// else the time it was received).
	At time.Time `json:"at"`
	// Raw is the provider's own status value ("queued", "delivered"), kept
	// verbatim.
	Raw string `json:"raw,omitempty"`
	// ErrorCode is the provider's error code, if any ("30007").
	ErrorCode string `json:"error_code,omitempty"`
	// ErrorMessage is the provider's error text, if any.
	ErrorMessage string `json:"error_message,omitempty"`
	// Arrived marks a change whose At is the time its report arrived,
	// because the provider gave no time of its own.
	Arrived bool `json:"arrived,omitempty"`
}

// Record is the status of one delivery with its history (S2, S3). The zero
// Record has status Unknown and no history. A Record is a plain value; it is
// not safe for concurrent mutation.
type Record struct {
	// Current is the merged status: the highest-ranked status seen (S2).
	Current Status `json:"status"`
	// History holds every distinct event reported, once, ordered by event
	// time (S3); see Apply.
	History []Change `json:"history,omitempty"`
}

// Apply merges c into the record and reports whether the record changed.
//
// Current becomes the higher-ranked of Current and c.Status (S2). c joins
// History unless the same event is already there (S3): two changes are one
// event when they have the same Status, Raw and ErrorCode and either the
// same provider time At, or both no provider time (Arrived), in which case
// the event keeps the earliest arrival. Of two reports of one event that
// differ only in ErrorMessage, the larger text is kept. History is ordered
// by At, then rank, Raw, ErrorCode and ErrorMessage, so that the record is
// the same whatever the order and number of arrivals: a "sent" that arrives
// after "delivered" is recorded, before it, and a duplicate changes
// nothing.
//
// A change with an invalid status gives an error matching ErrUnknown and
// leaves the record unchanged.
func (r *Record) Apply(c Change) (bool, error) {
	if !c.Status.Valid() {
		return false, fmt.Errorf("status: %w: %s", ErrUnknown, c.Status)
	}
	changed := false
	if c.Status.Rank() > r.Current.Rank() {
		r.Current = c.Status
		changed = true
	}
	for i := range r.History {
		h := &r.History[i]
		if !sameEvent(h, &c) {
			continue
		}
		moved := false
		if c.Arrived && c.At.Before(h.At) {
			h.At, moved, changed = c.At, true, true
		}
		if c.ErrorMessage > h.ErrorMessage {
			h.ErrorMessage, moved, changed = c.ErrorMessage, true, true
		}
		if moved {
			slices.SortStableFunc(r.History, compareChanges)
		}
		return changed, nil
	}
	i, _ := slices.BinarySearchFunc(r.History, c, compareChanges)
	r.History = slices.Insert(r.History, i, c)
	return true, nil
}

// SameEvent reports whether c reports the provider event h reports (S3):
// the same status, raw status and error code, both timed by the provider
// or both by their arrival, and for provider times the same instant. A
// Record keeps one change per event.
func (h Change) SameEvent(c Change) bool { return sameEvent(&h, &c) }

// Absorbs reports whether merging c leaves h, a change of a history, as it
// is: c reports h's event (SameEvent), did not arrive earlier than h, and
// has no error message that orders after h's. Record.Apply(c) changes
// nothing when the record's status ranks at least c's and the first change
// of its history that reports c's event absorbs c; a store that keeps
// histories in its own form can tell so without rebuilding the Record.
func (h Change) Absorbs(c Change) bool {
	return sameEvent(&h, &c) && !(c.Arrived && c.At.Before(h.At)) && c.ErrorMessage <= h.ErrorMessage
}

// sameEvent reports whether a and b report one provider event (S3).
func sameEvent(a, b *Change) bool {
	if a.Status != b.Status || a.Raw != b.Raw || a.ErrorCode != b.ErrorCode || a.Arrived != b.Arrived {
		return false
	}
	return a.Arrived || a.At.Equal(b.At)
}

// compareChanges is the order of a history: event time, then rank and the
// provider's values, so that equal times still give one order.
func compareChanges(a, b Change) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if a.Status != b.Status {
		return cmp.Compare(a.Status.Rank(), b.Status.Rank())
	}
	if c := strings.Compare(a.Raw, b.Raw); c != 0 {
		return c
	}
	if c := strings.Compare(a.ErrorCode, b.ErrorCode); c != 0 {
		return c
	}
	if a.Arrived != b.Arrived {
		if a.Arrived {
			return 1
		}
		return -1
	}
	return strings.Compare(a.ErrorMessage, b.ErrorMessage)
}

// Clone returns a deep copy of r whose History shares nothing with r.
func (r Record) Clone() Record {
	if r.History != nil {
		r.History = append([]Change(nil), r.History...)
	}
	return r
}

// Counts holds how many deliveries are in each status (S5). Index it with a
// Status: c[status.Delivered]. Index Unknown counts deliveries with no
// status yet.
type Counts [count]int

// Add counts one delivery in status s. An out-of-range value counts as
// Unknown.
func (c *Counts) Add(s Status) {
	if int(s) >= count {
		s = Unknown
	}
	c[s]++
}

// Total returns the number of deliveries counted.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Merge adds every count of o to c.
func (c *Counts) Merge(o Counts) {
	for i, v := range o {
		c[i] += v
	}
}

// CountOf returns the per-status counts of a list of statuses (S5).
func CountOf(statuses ...Status) Counts {
	var c Counts
	for _, s := range statuses {
		c.Add(s)
	}
	return c
}

// String renders the non-zero counts in rank order, for logs and examples:
// "sent=2 delivered=5".
func (c Counts) String() string {
	var b []byte
	for i, v := range c {
		if v == 0 {
			continue
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%s=%d", Status(i), v)
	}
	return string(b)
}
