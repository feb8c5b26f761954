package status

import (
	"fmt"
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
}

// Record is the status of one delivery with its history (S2, S3). The zero
// Record has status Unknown and no history. A Record is a plain value; it is
// not safe for concurrent mutation.
type Record struct {
	// Current is the merged status: the highest-ranked status seen.
	Current Status `json:"status"`
	// History holds every accepted change in the order it was accepted.
	History []Change `json:"history,omitempty"`
}

// Apply merges c into the record (S2) and reports whether it was accepted.
// A change is accepted, and appended to History (S3), only when it raises the
// rank of Current; a duplicated or out-of-order change that does not is
// ignored, so the same webhook delivered twice is recorded once. A change
// with an invalid status gives an error matching ErrUnknown and leaves the
// record unchanged.
func (r *Record) Apply(c Change) (bool, error) {
	if !c.Status.Valid() {
		return false, fmt.Errorf("status: %w: %s", ErrUnknown, c.Status)
	}
	if c.Status.Rank() <= r.Current.Rank() {
		return false, nil
	}
	r.Current = c.Status
	r.History = append(r.History, c)
	return true, nil
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
